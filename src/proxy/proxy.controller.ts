import { All, Controller, NotFoundException, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { isGatewayPath } from '../common/gateway-paths';
import { ProxiedToRack } from '../rbac/decorators/proxied-to-rack.decorator';
import { RackProxy } from './rack-proxy.service';
import { ReleaseEnvPolicy } from './release-env.policy';

/**
 * Every path outside the gateway's own `/api/` and `/ui/` belongs to the rack. Requests reach this
 * handler only after the global pipeline has authenticated the caller and the route table has
 * allowed the request; it then hands the raw, still unread request to the proxy.
 */
@ApiExcludeController()
@Controller()
export class ProxyController {
  constructor(
    private readonly rackProxy: RackProxy,
    private readonly releaseEnv: ReleaseEnvPolicy,
  ) {}

  @All('*')
  @ProxiedToRack()
  async forwardToRack(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    if (isGatewayPath(request.url)) {
      throw new NotFoundException({ code: 'not_found', message: `no such endpoint: ${request.method} ${request.url.split('?', 1)[0]}` });
    }
    const { principal, rackDecision } = request;
    if (!principal || !rackDecision) throw new Error('proxy reached without a principal and a decision');
    const body = rackDecision.route.carriesEnv ? await this.releaseEnv.rewrite(request.raw, rackDecision, principal) : undefined;
    reply.hijack();
    this.rackProxy.forward(request.raw, reply.raw, principal, rackDecision, body);
  }
}

import { All, Controller, NotFoundException, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { isGatewayPath } from '../common/gateway-paths';
import { ProxiedToRack } from '../rbac/decorators/proxied-to-rack.decorator';
import { RackBehaviours } from './rack-behaviours';
import { RackProxy } from './rack-proxy.service';
import type { RackUpgradeRequest } from './rack-upgrade-request';

/**
 * Every path outside the gateway's own `/api/` and `/ui/` belongs to the rack. Requests reach these
 * handlers only after the global pipeline has read the target, authenticated the caller and allowed
 * the request by the route table; they then hand the raw, still unread request to the proxy. HTTP
 * requests come through Fastify's router; websocket upgrades through RackUpgradeHandler, which runs
 * the same pipeline before calling `forwardUpgradeToRack`.
 */
@ApiExcludeController()
@Controller()
export class ProxyController {
  constructor(
    private readonly rackProxy: RackProxy,
    private readonly behaviours: RackBehaviours,
  ) {}

  @All('*')
  @ProxiedToRack()
  async forwardToRack(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    if (isGatewayPath(request.url)) {
      throw new NotFoundException({ code: 'not_found', message: `no such endpoint: ${request.method} ${request.url.split('?', 1)[0]}` });
    }
    const { principal, rackDecision } = request;
    if (!principal || !rackDecision) throw new Error('proxy reached without a principal and a decision');
    const body = request.rackBody ?? (await this.behaviours.requestRewriteFor(rackDecision)?.rewrite(request.raw, rackDecision, principal));
    reply.hijack();
    this.rackProxy.forward(request.raw, reply.raw, principal, rackDecision, body, request.rackSettlement);
  }

  @ProxiedToRack()
  forwardUpgradeToRack(upgrade: RackUpgradeRequest): void {
    const { principal, rackDecision } = upgrade;
    if (!principal || !rackDecision) throw new Error('proxy reached without a principal and a decision');
    this.rackProxy.forwardUpgrade(upgrade.raw, upgrade.socket, upgrade.head, principal, rackDecision);
  }
}

import { All, Controller, NotFoundException, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { isGatewayPath } from '../common/gateway-paths';
import { ProxiedToRack } from '../rbac/decorators/proxied-to-rack.decorator';
import { RackProxy } from './rack-proxy.service';
import type { RackUpgradeRequest } from './rack-upgrade-request';

/**
 * Every path outside the gateway's own `/api/` and `/ui/` belongs to the rack. Requests reach these
 * handlers only after the global pipeline has read the target, authenticated the caller and allowed
 * the request by the route table; they then hand the raw request to the proxy, its body still unread
 * unless a stage had to read it (a rewritten release form, an approved build's form). HTTP requests
 * come through Fastify's router; websocket upgrades through RackUpgradeHandler, which runs the same
 * pipeline before calling `forwardUpgradeToRack`.
 */
@ApiExcludeController()
@Controller()
export class ProxyController {
  constructor(private readonly rackProxy: RackProxy) {}

  @All('*')
  @ProxiedToRack()
  forwardToRack(@Req() request: FastifyRequest, @Res() reply: FastifyReply): void {
    if (isGatewayPath(request.url)) {
      throw new NotFoundException({ code: 'not_found', message: `no such endpoint: ${request.method} ${request.url.split('?', 1)[0]}` });
    }
    const { principal, rackDecision } = request;
    if (!principal || !rackDecision) throw new Error('proxy reached without a principal and a decision');
    reply.hijack();
    this.rackProxy.forward(request.raw, reply.raw, principal, rackDecision, request.rackBody, request.rackSettlement);
  }

  @ProxiedToRack()
  forwardUpgradeToRack(upgrade: RackUpgradeRequest): void {
    const { principal, rackDecision } = upgrade;
    if (!principal || !rackDecision) throw new Error('proxy reached without a principal and a decision');
    this.rackProxy.forwardUpgrade(upgrade.raw, upgrade.socket, upgrade.head, principal, rackDecision);
  }
}

import { All, Controller, NotFoundException, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { isGatewayPath } from '../common/gateway-paths';
import { RackProxy } from './rack-proxy.service';

/**
 * Every path outside the gateway's own `/api/` and `/ui/` belongs to the rack. Requests reach this
 * handler only after the global pipeline (authentication and the rest) has passed them; it then hands
 * the raw, still unread request to the proxy.
 */
@ApiExcludeController()
@Controller()
export class ProxyController {
  constructor(private readonly rackProxy: RackProxy) {}

  @All('*')
  forwardToRack(@Req() request: FastifyRequest, @Res() reply: FastifyReply): void {
    if (isGatewayPath(request.url))
      throw new NotFoundException({ code: 'not_found', message: `no such endpoint: ${request.method} ${request.url.split('?', 1)[0]}` });
    const principal = request.principal;
    if (!principal) throw new Error('proxy reached without a principal');
    reply.hijack();
    this.rackProxy.forward(request.raw, reply.raw, principal);
  }
}

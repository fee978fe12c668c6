import { BadRequestException, CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { PipelineRequest } from '../../common/pipeline-request';
import { isGatewayPath } from '../../common/gateway-paths';
import { readRackRequest } from '../../rack/rack-request-target';
import type { RackRequestTarget } from '../../rack/rack-request-target';
import { PROXIED_TO_RACK } from '../../rbac/decorators/proxied-to-rack.decorator';

declare module 'fastify' {
  interface FastifyRequest {
    /** For proxied requests: the target as the rack's router will read it, parsed once by RackRequestGuard. */
    rackTarget?: RackRequestTarget;
  }
}

export class InvalidRackRequestError extends BadRequestException {
  constructor(reason: string) {
    super({ code: 'invalid_rack_request', message: reason });
  }
}

/**
 * First stage for proxied requests: reads the request target and framing exactly as the rack will, and
 * refuses anything it could read two ways, before any credential is looked at. Every later stage, and
 * the forwarded request, use the one parsed target.
 */
@Injectable()
export class RackRequestGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<PipelineRequest>();
    if (!this.reflector.get<boolean>(PROXIED_TO_RACK, context.getHandler()) || isGatewayPath(request.url)) return true;
    const reading = readRackRequest(request.method, request.url, request.headers);
    if (!reading.ok) throw new InvalidRackRequestError(reading.reason);
    request.rackTarget = reading.target;
    return true;
  }
}

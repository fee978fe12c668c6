import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { PipelineRequest } from '../../common/pipeline-request';
import type { RateLimitBucket } from '../../config/gateway-config';
import { CLIENT_BUCKET } from '../decorators/rate-limit.decorator';
import { RateLimiter } from '../rate-limiter.service';

/**
 * The first stage of the pipeline, before any credential is looked at: a client address over its
 * failed-authentication limit is refused outright while it presents credentials, and every request
 * counts against its address's overall limit (and a route's own, such as sign-in starts).
 */
@Injectable()
export class ClientRateLimitGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly limiter: RateLimiter,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<PipelineRequest>();
    const client = this.limiter.clientOf(request);
    if (request.headers.authorization !== undefined) this.limiter.assertNotExhausted('authFailures', client);
    await this.limiter.charge('ip', client);
    const bucket = this.reflector.get<RateLimitBucket | undefined>(CLIENT_BUCKET, context.getHandler());
    if (bucket) await this.limiter.charge(bucket, client);
    return true;
  }
}

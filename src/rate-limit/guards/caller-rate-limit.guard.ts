import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import type { PipelineRequest } from '../../common/pipeline-request';
import { RateLimiter } from '../rate-limiter.service';

/**
 * After the policy guard: each caller (a token, or a browser session's user) is limited per rate
 * class of what it calls, the class its rack route names, or for the admin API reads and writes.
 */
@Injectable()
export class CallerRateLimitGuard implements CanActivate {
  constructor(private readonly limiter: RateLimiter) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<PipelineRequest>();
    const principal = request.principal;
    if (!principal) return true;
    const rateClass = request.rackDecision?.route.rateClass ?? (request.method === 'GET' || request.method === 'HEAD' ? 'read' : 'write');
    await this.limiter.charge(rateClass, principal.kind === 'token' ? `token:${principal.tokenId}` : `user:${principal.user.id}`);
    return true;
  }
}

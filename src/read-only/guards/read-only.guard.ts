import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import type { PipelineRequest } from '../../common/pipeline-request';
import { ReadOnlyModeError } from '../read-only.errors';
import { ReadOnlyMode } from '../read-only-mode';

/**
 * After the policy guard, which matched the rack route: in read-only mode, any rack route whose action
 * is not `read` is refused before it is rate-counted, recorded as an intent or forwarded. That covers
 * websockets alike (log streams are reads; exec, run, shell, console and `convox proxy` are not) and
 * `convox cp`, whose reads are exec. The gateway's own API is left alone, so admins can still act.
 */
@Injectable()
export class ReadOnlyGuard implements CanActivate {
  constructor(private readonly mode: ReadOnlyMode) {}

  canActivate(context: ExecutionContext): boolean {
    if (!this.mode.active) return true;
    const decision = context.switchToHttp().getRequest<PipelineRequest>().rackDecision;
    if (decision && decision.route.action !== 'read') throw new ReadOnlyModeError();
    return true;
  }
}

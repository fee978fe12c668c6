import { Injectable } from '@nestjs/common';
import type { PipelineRequest } from '../common/pipeline-request';

/** Told of a request whose credential was refused; may throw to answer it otherwise (a 429). */
export type AuthenticationFailureListener = (request: PipelineRequest) => void | Promise<void>;

/**
 * Where modules learn of refused credentials (bad tokens, bad Basic passwords) without the
 * authentication guard knowing them: rate limiting counts them now, the audit trail will record them.
 */
@Injectable()
export class AuthenticationFailures {
  private readonly listeners = new Set<AuthenticationFailureListener>();

  onFailure(listener: AuthenticationFailureListener): void {
    this.listeners.add(listener);
  }

  async report(request: PipelineRequest): Promise<void> {
    for (const listener of this.listeners) await listener(request);
  }
}

import { ServiceUnavailableException } from '@nestjs/common';

/** A configured checkpoint could not be read: the chain cannot be called intact without it. */
export class AuditCheckpointUnavailableError extends ServiceUnavailableException {
  constructor(target: string, reason: string) {
    super({
      code: 'audit_checkpoint_unavailable',
      message: `the newest audit checkpoint could not be read from ${target} (${reason}); the chain cannot be verified against it`,
    });
  }
}

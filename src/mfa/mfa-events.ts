import { Injectable } from '@nestjs/common';
import type { SecondFactorKind } from './second-factor-proof';

/** What happened to someone's second factors; the audit trail records each. */
export interface MfaEvent {
  readonly kind:
    | 'mfa.verified'
    | 'mfa.failed'
    | 'mfa.locked'
    | 'mfa.unlocked'
    | 'mfa.method-added'
    | 'mfa.method-removed'
    | 'mfa.backup-codes-regenerated';
  readonly userEmail: string;
  readonly clientIp?: string;
  readonly method?: SecondFactorKind;
  readonly reason?: string;
}

/** Where the MFA module announces its events, so it need not know who records them. */
@Injectable()
export class MfaEvents {
  private readonly listeners = new Set<(event: MfaEvent) => void>();

  subscribe(listener: (event: MfaEvent) => void): void {
    this.listeners.add(listener);
  }

  publish(event: MfaEvent): void {
    for (const listener of this.listeners) listener(event);
  }
}

import { Inject, Injectable } from '@nestjs/common';
import { DatabaseSessionStore } from '../auth/database-session.store';
import type { Principal } from '../auth/principal';
import { Clock } from '../common/clock';
import { GATEWAY_CONFIG, GatewayConfig } from '../config/gateway-config';
import { TokensService } from '../tokens/tokens.service';

/**
 * Opens the step-up window of the credential a second factor was verified with: the browser session
 * (which also completes its sign-in) or the personal token. Kept with the credential in the database,
 * so every instance honours it; the token cache re-reads the token once, then it is a lookup again.
 */
@Injectable()
export class StepUpWindows {
  constructor(
    private readonly sessions: DatabaseSessionStore,
    private readonly tokens: TokensService,
    private readonly clock: Clock,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  async open(principal: Principal): Promise<Date> {
    const now = this.clock.now();
    const until = new Date(now.getTime() + this.config.mfa.stepUpWindowMs);
    if (principal.kind === 'session') await this.sessions.markSecondFactor(principal.sessionId, now, until);
    else await this.tokens.openStepUp(principal.tokenId, until);
    return until;
  }
}

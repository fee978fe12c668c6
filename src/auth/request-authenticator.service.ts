import { Injectable } from '@nestjs/common';
import { type AuthenticatedToken, TokensService } from '../tokens/tokens.service';
import { UsersService } from '../users/users.service';
import { tokenFromAuthorization } from './credentials';
import { Clock } from '../common/clock';
import { SESSION_SECOND_FACTOR_KEY, SESSION_STEP_UP_KEY, SESSION_USER_KEY } from './database-session.store';
import type { Principal } from './principal';

export type AuthenticationResult =
  | { readonly outcome: 'authenticated'; readonly principal: Principal }
  | { readonly outcome: 'missing' }
  | { readonly outcome: 'invalid' }
  /** A valid credential of a user locked out (failed second factors) until `until`. */
  | { readonly outcome: 'locked'; readonly until: Date };

interface SessionLike {
  readonly sessionId?: string;
  readonly [SESSION_USER_KEY]?: unknown;
  readonly [SESSION_SECOND_FACTOR_KEY]?: unknown;
  readonly [SESSION_STEP_UP_KEY]?: unknown;
}

/**
 * Turns a request's credentials into a Principal. Used by the authentication guard for HTTP and by
 * the proxy for websocket upgrades, which never pass through Nest's guards.
 */
@Injectable()
export class RequestAuthenticator {
  /**
   * One principal per cached token result, so the hot path allocates none and what is derived from a
   * principal (its ability) can be memoised on it. A changed token or user is a new result, so a new principal.
   */
  private readonly tokenPrincipals = new WeakMap<AuthenticatedToken, Principal>();

  constructor(
    private readonly tokens: TokensService,
    private readonly users: UsersService,
    private readonly clock: Clock,
  ) {}

  /** Gateway tokens only: what the convox CLI and CI send, and all a proxied path accepts. */
  async fromAuthorization(header: string | undefined): Promise<AuthenticationResult> {
    const secret = tokenFromAuthorization(header);
    if (secret === undefined) return { outcome: header ? 'invalid' : 'missing' };
    const token = await this.tokens.authenticate(secret);
    if (!token) return { outcome: 'invalid' };
    if (token.user.lockedUntil !== null && token.user.lockedUntil > this.clock.now())
      return { outcome: 'locked', until: token.user.lockedUntil };
    let principal = this.tokenPrincipals.get(token);
    if (!principal) {
      principal = { kind: 'token', user: token.user, tokenId: token.tokenId, scope: token.scope, stepUpUntil: token.stepUpUntil };
      this.tokenPrincipals.set(token, principal);
    }
    return { outcome: 'authenticated', principal };
  }

  /** A browser session; its user is re-read on every request so disabling takes effect at once. */
  async fromSession(session: SessionLike | undefined): Promise<AuthenticationResult> {
    const userId = session?.[SESSION_USER_KEY];
    if (typeof userId !== 'string' || !session?.sessionId) return { outcome: 'missing' };
    const user = await this.users.findById(userId);
    if (!user || user.disabled) return { outcome: 'invalid' };
    if (user.lockedUntil !== null && user.lockedUntil > this.clock.now()) return { outcome: 'locked', until: user.lockedUntil };
    const principal: Principal = {
      kind: 'session',
      user,
      sessionId: session.sessionId,
      secondFactorAt: epochOrNull(session[SESSION_SECOND_FACTOR_KEY]),
      stepUpUntil: epochOrNull(session[SESSION_STEP_UP_KEY]),
    };
    return { outcome: 'authenticated', principal };
  }
}

function epochOrNull(value: unknown): number | null {
  return typeof value === 'number' ? value : null;
}

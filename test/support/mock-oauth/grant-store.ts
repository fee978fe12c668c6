import { createHash, randomBytes } from 'node:crypto';
import type { GoogleAccount } from './google-account';

export const CODE_LIFETIME_MS = 60_000;
// Google's access tokens last an hour, reported one second short.
export const ACCESS_TOKEN_LIFETIME_SECONDS = 3599;

export interface CodeChallenge {
  value: string;
  method: 'S256' | 'plain';
}

/** What the user consented to at the authorization endpoint, waiting to be redeemed. */
export interface AuthorizationGrant {
  account: GoogleAccount;
  clientId: string;
  redirectUri: string;
  scopes: string[];
  nonce?: string;
  codeChallenge?: CodeChallenge;
}

export interface AccessGrant {
  account: GoogleAccount;
  scopes: string[];
  issuedAtMs: number;
  expiresAtMs: number;
}

export interface Redemption {
  clientId: string;
  redirectUri: string | undefined;
  codeVerifier: string | undefined;
}

export type RedeemResult =
  { ok: true; accessToken: string; grant: AuthorizationGrant; access: AccessGrant } | { ok: false; reason: string };

interface StoredCode {
  grant: AuthorizationGrant;
  issuedAtMs: number;
  redeemed: boolean;
  accessTokens: string[];
}

// Google's codes start with "4/" and its access tokens with "ya29."; keeping the slash makes the
// gateway prove it URL-decodes the callback's query before posting the code back.
const randomToken = (prefix: string): string => `${prefix}${randomBytes(24).toString('base64url')}`;

export class GrantStore {
  private readonly codes = new Map<string, StoredCode>();
  private readonly accessTokens = new Map<string, AccessGrant>();

  constructor(private readonly clock: () => number) {}

  issueCode(grant: AuthorizationGrant): string {
    const code = randomToken('4/0');
    this.codes.set(code, { grant, issuedAtMs: this.clock(), redeemed: false, accessTokens: [] });
    return code;
  }

  redeemCode(code: string, redemption: Redemption): RedeemResult {
    const stored = this.codes.get(code);
    if (stored === undefined) return { ok: false, reason: 'Unknown authorization code.' };
    if (stored.redeemed) {
      // RFC 6749 section 4.1.2: a replayed code suggests it leaked, so what it bought is revoked too.
      for (const token of stored.accessTokens) this.accessTokens.delete(token);
      return { ok: false, reason: 'Authorization code already redeemed.' };
    }
    if (this.clock() - stored.issuedAtMs >= CODE_LIFETIME_MS) return { ok: false, reason: 'Authorization code expired.' };
    if (stored.grant.clientId !== redemption.clientId) return { ok: false, reason: 'Authorization code was issued to another client.' };
    if (stored.grant.redirectUri !== redemption.redirectUri)
      return { ok: false, reason: 'redirect_uri does not match the authorization request.' };
    const pkceFailure = checkCodeVerifier(stored.grant.codeChallenge, redemption.codeVerifier);
    if (pkceFailure !== undefined) return { ok: false, reason: pkceFailure };

    stored.redeemed = true;
    const issuedAtMs = this.clock();
    const access: AccessGrant = {
      account: stored.grant.account,
      scopes: stored.grant.scopes,
      issuedAtMs,
      expiresAtMs: issuedAtMs + ACCESS_TOKEN_LIFETIME_SECONDS * 1000,
    };
    const accessToken = randomToken('ya29.');
    this.accessTokens.set(accessToken, access);
    stored.accessTokens.push(accessToken);
    return { ok: true, accessToken, grant: stored.grant, access };
  }

  findAccess(accessToken: string): AccessGrant | undefined {
    const access = this.accessTokens.get(accessToken);
    return access !== undefined && this.clock() < access.expiresAtMs ? access : undefined;
  }
}

function checkCodeVerifier(challenge: CodeChallenge | undefined, verifier: string | undefined): string | undefined {
  if (challenge === undefined) return verifier === undefined ? undefined : 'code_verifier sent but no code_challenge was.';
  if (verifier === undefined) return 'Missing code_verifier.';
  const derived = challenge.method === 'S256' ? createHash('sha256').update(verifier).digest('base64url') : verifier;
  return derived === challenge.value ? undefined : 'Invalid code_verifier.';
}

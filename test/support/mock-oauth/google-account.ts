import { createHash } from 'node:crypto';
import type { MockIdentity } from './mock-oauth.types';

export const DEFAULT_MOCK_IDENTITY: Readonly<MockIdentity> = Object.freeze({
  email: 'default.user@example.com',
  name: 'Default User',
  emailVerified: true,
});

const EMAIL_SCOPES = new Set(['email', 'https://www.googleapis.com/auth/userinfo.email']);
const PROFILE_SCOPES = new Set(['profile', 'https://www.googleapis.com/auth/userinfo.profile']);
export const KNOWN_SCOPES: ReadonlySet<string> = new Set(['openid', ...EMAIL_SCOPES, ...PROFILE_SCOPES]);

export const grantsEmail = (scopes: readonly string[]): boolean => scopes.some((scope) => EMAIL_SCOPES.has(scope));
export const grantsProfile = (scopes: readonly string[]): boolean => scopes.some((scope) => PROFILE_SCOPES.has(scope));

/** A MockIdentity with every default filled in, fixed when the login happens. */
export interface GoogleAccount {
  sub: string;
  email: string;
  emailVerified: boolean;
  name: string;
  givenName: string;
  familyName?: string;
  hostedDomain?: string;
}

export function resolveAccount(identity: MockIdentity): GoogleAccount {
  const name = identity.name ?? identity.email.slice(0, identity.email.indexOf('@'));
  const [givenName, ...rest] = name.split(' ');
  return {
    sub: identity.sub ?? subFor(identity.email),
    email: identity.email,
    emailVerified: identity.emailVerified ?? true,
    name,
    givenName,
    familyName: rest.length > 0 ? rest.join(' ') : undefined,
    hostedDomain: identity.hostedDomain,
  };
}

// Google's sub is a stable decimal string per account; deriving it from the email keeps repeated
// logins of one person on one user row, which is what the gateway keys on.
function subFor(email: string): string {
  const digest = createHash('sha256').update(email.toLowerCase()).digest('hex');
  return `1${(BigInt(`0x${digest.slice(0, 24)}`) % 10n ** 20n).toString().padStart(20, '0')}`;
}

/** The claims Google's /oauth2/v3/userinfo answers; name and picture only with a profile scope. */
export function userinfoClaims(account: GoogleAccount, scopes: readonly string[], origin: string): Record<string, unknown> {
  const claims: Record<string, unknown> = { sub: account.sub, picture: `${origin}/avatars/${account.sub}.png` };
  if (grantsProfile(scopes)) {
    claims.name = account.name;
    claims.given_name = account.givenName;
    if (account.familyName !== undefined) claims.family_name = account.familyName;
  }
  if (grantsEmail(scopes)) {
    claims.email = account.email;
    claims.email_verified = account.emailVerified;
  }
  if (account.hostedDomain !== undefined) claims.hd = account.hostedDomain;
  return claims;
}

export interface IdTokenContext {
  issuer: string;
  clientId: string;
  issuedAtMs: number;
  lifetimeSeconds: number;
  nonce?: string;
}

// `alg: none` and an empty signature: the gateway reads identity from userinfo, and a gateway that
// started verifying id_tokens should fail loudly here rather than trust a signature the mock forged.
export function unsignedIdToken(account: GoogleAccount, scopes: readonly string[], origin: string, context: IdTokenContext): string {
  const issuedAt = Math.floor(context.issuedAtMs / 1000);
  const payload = {
    iss: context.issuer,
    azp: context.clientId,
    aud: context.clientId,
    ...userinfoClaims(account, scopes, origin),
    iat: issuedAt,
    exp: issuedAt + context.lifetimeSeconds,
    ...(context.nonce === undefined ? {} : { nonce: context.nonce }),
  };
  const encode = (part: object): string => Buffer.from(JSON.stringify(part)).toString('base64url');
  return `${encode({ alg: 'none', typ: 'JWT' })}.${encode(payload)}.`;
}

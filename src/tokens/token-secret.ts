import { hash, randomBytes } from 'node:crypto';

export const TOKEN_PREFIX = 'rgw_';
/** rgw_ + 256 random bits in base64url: only [A-Za-z0-9_-], which the convox CLI sends unescaped. */
const TOKEN_PATTERN = /^rgw_[A-Za-z0-9_-]{43}$/;

export function generateTokenSecret(): string {
  return TOKEN_PREFIX + randomBytes(32).toString('base64url');
}

/** SHA-256 in hex. The one-shot `hash` costs a third of a `createHash` chain, and it runs on every proxied request. */
export function hashTokenSecret(secret: string): string {
  return hash('sha256', secret, 'hex');
}

export function looksLikeTokenSecret(candidate: string): boolean {
  return TOKEN_PATTERN.test(candidate);
}

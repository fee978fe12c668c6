import { Secret, TOTP } from 'otpauth';

const PERIOD_SECONDS = 30;
const DIGITS = 6;
/** One step either side: a phone's clock a little off, or a code typed as it turned over. */
const ACCEPTED_SKEW_STEPS = 1;

/** A fresh 160-bit TOTP secret (RFC 4226's recommended length). */
export function newTotpSecret(): Buffer {
  return Buffer.from(new Secret({ size: 20 }).bytes);
}

export function totpSecretBase32(secret: Buffer): string {
  return new Secret({ buffer: bufferOf(secret) }).base32;
}

/** The otpauth:// URI authenticator apps scan: SHA-1, six digits, 30 s, as every app supports. */
export function totpUri(secret: Buffer, accountName: string, issuer: string): string {
  return totpFor(secret, accountName, issuer).toString();
}

/**
 * The time step a code belongs to, if it is the code of a step within the accepted skew of `at`.
 * The caller spends the step (once per user), so a code is good once however often it is seen.
 */
export function matchingTotpStep(secret: Buffer, code: string, at: Date): number | null {
  const delta = totpFor(secret).validate({ token: code, timestamp: at.getTime(), window: ACCEPTED_SKEW_STEPS });
  if (delta === null) return null;
  return Math.floor(at.getTime() / 1000 / PERIOD_SECONDS) + delta;
}

function totpFor(secret: Buffer, label = 'Rack Gateway', issuer = 'Rack Gateway'): TOTP {
  return new TOTP({
    issuer,
    label,
    algorithm: 'SHA1',
    digits: DIGITS,
    period: PERIOD_SECONDS,
    secret: new Secret({ buffer: bufferOf(secret) }),
  });
}

function bufferOf(secret: Buffer): ArrayBuffer {
  return secret.buffer.slice(secret.byteOffset, secret.byteOffset + secret.byteLength) as ArrayBuffer;
}

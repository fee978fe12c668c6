import type { AuthenticationResponseJSON } from '@simplewebauthn/server';

/** What a caller presents as their second factor. */
export type SecondFactorProof =
  | { readonly kind: 'totp'; readonly code: string }
  | { readonly kind: 'backup-code'; readonly code: string }
  | { readonly kind: 'webauthn'; readonly challengeId: string; readonly response: AuthenticationResponseJSON };

export type SecondFactorKind = SecondFactorProof['kind'];

const TOTP_CODE = /^\d{6}$/;
/** 12 hex digits, shown as three groups of four; spaces and dashes are the person's, not the code's. */
const BACKUP_CODE = /^[0-9A-F]{12}$/;

export function normaliseBackupCode(code: string): string {
  return code.replace(/[\s-]/g, '').toUpperCase();
}

/**
 * A code typed by a person, sent where either kind is accepted (X-MFA-TOTP, the password suffix):
 * six digits are a TOTP code, twelve hex digits a backup code; anything else is no proof.
 */
export function proofFromCode(code: string): SecondFactorProof | undefined {
  const trimmed = code.trim();
  if (TOTP_CODE.test(trimmed)) return { kind: 'totp', code: trimmed };
  const backup = normaliseBackupCode(trimmed);
  if (BACKUP_CODE.test(backup)) return { kind: 'backup-code', code: backup };
  return undefined;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** An assertion is a few hundred bytes of JSON; anything much larger is not one. */
const ASSERTION_HEADER_LIMIT = 16 * 1024;

/** X-MFA-WebAuthn: base64url of `{"challenge_id": …, "response": <navigator.credentials.get() as JSON>}`. */
export function proofFromAssertionHeader(header: string): SecondFactorProof | undefined {
  if (header.length > ASSERTION_HEADER_LIMIT) return undefined;
  try {
    const parsed = JSON.parse(Buffer.from(header, 'base64url').toString('utf8')) as { challenge_id?: unknown; response?: unknown };
    if (typeof parsed.challenge_id !== 'string' || !UUID.test(parsed.challenge_id)) return undefined;
    if (typeof parsed.response !== 'object' || parsed.response === null) return undefined;
    return { kind: 'webauthn', challengeId: parsed.challenge_id, response: parsed.response as AuthenticationResponseJSON };
  } catch {
    return undefined;
  }
}

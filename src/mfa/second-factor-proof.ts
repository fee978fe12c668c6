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

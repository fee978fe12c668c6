/** A second-factor code carried after the token (`TOKEN.totp.123456`, `TOKEN.backup.CODE`), as the peer product's CLI sends it. */
export interface InlineSecondFactor {
  readonly method: 'totp' | 'backup';
  readonly code: string;
}

export interface PresentedCredential {
  readonly token: string;
  readonly secondFactor?: InlineSecondFactor;
}

/** Tokens are [A-Za-z0-9_-]: a dot can only start the suffix. */
const INLINE_SECOND_FACTOR = /^([^.]+)\.(totp|backup)\.(.+)$/;

/**
 * Pulls a gateway token, and a second-factor code riding after it, out of an Authorization header.
 * The convox CLI sends them as the Basic-auth password (any user name) and percent-encodes characters
 * outside [A-Za-z0-9._~-]; CI may send Bearer.
 */
export function credentialFromAuthorization(header: string | undefined): PresentedCredential | undefined {
  const presented = presentedSecret(header);
  if (presented === undefined) return undefined;
  const inline = INLINE_SECOND_FACTOR.exec(presented);
  if (!inline) return { token: presented };
  return { token: inline[1], secondFactor: { method: inline[2] as InlineSecondFactor['method'], code: inline[3] } };
}

export function tokenFromAuthorization(header: string | undefined): string | undefined {
  return credentialFromAuthorization(header)?.token;
}

function presentedSecret(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const space = header.indexOf(' ');
  if (space < 0) return undefined;
  const scheme = header.slice(0, space).toLowerCase();
  const value = header.slice(space + 1).trim();
  if (scheme === 'bearer') return value || undefined;
  if (scheme !== 'basic') return undefined;
  const decoded = Buffer.from(value, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  const password = decoded.slice(colon + 1);
  try {
    return decodeURIComponent(password) || undefined;
  } catch {
    return password || undefined;
  }
}

/**
 * Pulls a gateway token out of an Authorization header. The convox CLI sends it as the Basic-auth
 * password (any user name) and percent-encodes characters outside [A-Za-z0-9._~-]; CI may send Bearer.
 */
export function tokenFromAuthorization(header: string | undefined): string | undefined {
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

export const DEFAULT_RETURN_TO = '/api/v1/me';

/**
 * Where to send a person after sign-in. Only a path on this gateway is honoured: anything that could
 * leave the site (scheme, `//host`, `/\host`, control characters) falls back to the default.
 */
export function safeReturnTo(candidate: unknown): string {
  if (typeof candidate !== 'string' || candidate.length > 2048) return DEFAULT_RETURN_TO;
  if (!candidate.startsWith('/') || candidate.startsWith('//') || candidate.startsWith('/\\')) return DEFAULT_RETURN_TO;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f\\]/.test(candidate)) return DEFAULT_RETURN_TO;
  const resolved = new URL(candidate, 'http://gateway.invalid');
  if (resolved.origin !== 'http://gateway.invalid') return DEFAULT_RETURN_TO;
  return `${resolved.pathname}${resolved.search}${resolved.hash}`;
}

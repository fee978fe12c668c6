/**
 * The gateway owns `/api/` and `/ui/`; every other path belongs to the rack and is proxied. Errors,
 * authentication and sessions differ on each side, so one predicate decides which side a URL is on.
 */
export function isGatewayPath(url: string): boolean {
  return (
    url.startsWith('/api/') ||
    url.startsWith('/ui/') ||
    url === '/api' ||
    url === '/ui' ||
    url.startsWith('/api?') ||
    url.startsWith('/ui?')
  );
}

/** The gateway's pages: browsers only, so a session is their one credential, and forms their bodies. */
export function isUiPath(url: string): boolean {
  return url.startsWith('/ui/') || url === '/ui' || url.startsWith('/ui?');
}

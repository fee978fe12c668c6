/**
 * App scopes limit a role binding or a token to some apps: exact names (`api`) or patterns with `*`
 * (`staging-*`). Convox app names are lower-case letters, digits and hyphens; anything else never
 * matches, so a percent-encoded or odd path segment fails closed.
 */
export const APP_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;
export const APP_SCOPE_PATTERN = /^[a-z0-9*][a-z0-9*-]{0,62}$/;

export function appScopeRegExp(patterns: readonly string[]): RegExp {
  const alternatives = patterns.map((pattern) => pattern.split('*').map(escapeRegExp).join('[a-z0-9-]*'));
  return new RegExp(`^(?:${alternatives.join('|')})$`);
}

export function appInScope(app: string, patterns: readonly string[] | null): boolean {
  if (!APP_NAME.test(app)) return false;
  return patterns === null || appScopeRegExp(patterns).test(app);
}

/** Whether every app `inner` admits is admitted by `outer` (null means all apps). */
export function scopeWithin(inner: readonly string[] | null, outer: readonly string[] | null): boolean {
  if (outer === null) return true;
  if (inner === null) return false;
  // A pattern is within outer only if outer lists it verbatim; a name, if outer admits it.
  return inner.every((pattern) => outer.includes(pattern) || (!pattern.includes('*') && appInScope(pattern, outer)));
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

import { appInScope, scopeWithin } from './app-scope';

describe('app scopes', () => {
  it('admit every valid app when unscoped, and names or patterns when scoped', () => {
    expect(appInScope('api', null)).toBe(true);
    expect(appInScope('api', ['api', 'staging-*'])).toBe(true);
    expect(appInScope('staging-web', ['api', 'staging-*'])).toBe(true);
    expect(appInScope('prod-web', ['api', 'staging-*'])).toBe(false);
    expect(appInScope('api-2', ['api'])).toBe(false);
    expect(appInScope('anything', [])).toBe(false);
  });

  it('never admit names that are not Convox app names', () => {
    for (const name of ['Api', 'staging-x%2F..%2Fprod', 'staging-x/../prod', '', 'a.b', '-x']) {
      expect(appInScope(name, null)).toBe(false);
      expect(appInScope(name, ['*'])).toBe(false);
    }
  });

  it('tell whether one scope stays within another', () => {
    expect(scopeWithin(['api'], null)).toBe(true);
    expect(scopeWithin(null, ['api'])).toBe(false);
    expect(scopeWithin(['staging-web'], ['staging-*'])).toBe(true);
    expect(scopeWithin(['staging-*'], ['staging-*', 'api'])).toBe(true);
    expect(scopeWithin(['*'], ['staging-*'])).toBe(false);
    expect(scopeWithin(['prod'], ['staging-*'])).toBe(false);
  });
});

import { MASK, SecretRule, formatEnv, maskEnv, maskParameters, parseEnv } from './secret-values';

const rule = new SecretRule(['STRIPE']);
const env = [
  'APP_NAME=shop',
  'DATABASE_URL=postgres://u:p@db/shop',
  'REDIS=redis://:hunter2@cache:6379',
  'SECRET_KEY_BASE=abc',
  'STRIPE_LIVE=sk_1',
  'WEB_CONCURRENCY=2',
].join('\n');

describe('secret values', () => {
  it('recognise the broad default names, configured extras, and URLs with credentials', () => {
    for (const key of [
      'API_TOKEN',
      'db_password',
      'AWS_SECRET_ACCESS_KEY',
      'PRIVATE_PEM',
      'GCP_CREDENTIALS',
      'DATABASE_URL',
      'STRIPE_LIVE',
    ]) {
      expect(rule.isSecret(key, 'x')).toBe(true);
    }
    expect(rule.isSecret('UPSTREAM', 'https://user:pw@example.com/')).toBe(true);
    expect(rule.isSecret('UPSTREAM', 'https://example.com/')).toBe(false);
    expect(rule.isSecret('PORT', '3000')).toBe(false);
  });

  it('mask secret values only, or every value, keeping keys and order', () => {
    expect(maskEnv(env, 'none', rule)).toBe(env);
    expect(parseEnv(maskEnv(env, 'secrets', rule))).toEqual(
      new Map([
        ['APP_NAME', 'shop'],
        ['DATABASE_URL', MASK],
        ['REDIS', MASK],
        ['SECRET_KEY_BASE', MASK],
        ['STRIPE_LIVE', MASK],
        ['WEB_CONCURRENCY', '2'],
      ]),
    );
    expect([...parseEnv(maskEnv(env, 'all', rule)).values()].every((value) => value === MASK)).toBe(true);
  });

  it('round-trip the rack env format, values containing = included', () => {
    const withEquals = 'A=1\nB=x=y==\n';
    expect(formatEnv(parseEnv(withEquals))).toBe('A=1\nB=x=y==');
  });

  it('mask secret parameters', () => {
    expect(maskParameters({ Password: 'p', Size: '10' }, rule)).toEqual({ Password: MASK, Size: '10' });
    expect(maskParameters(null, rule)).toBeNull();
  });
});

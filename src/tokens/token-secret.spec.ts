import { createHash } from 'node:crypto';
import { generateTokenSecret, hashTokenSecret, looksLikeTokenSecret } from './token-secret';

describe('token secrets', () => {
  it('are rgw_ plus 256 bits in the alphabet the convox CLI sends unescaped', () => {
    const secret = generateTokenSecret();
    expect(secret).toMatch(/^rgw_[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(secret.slice(4), 'base64url')).toHaveLength(32);
    expect(looksLikeTokenSecret(secret)).toBe(true);
  });

  it('never repeat', () => {
    const secrets = new Set(Array.from({ length: 1000 }, generateTokenSecret));
    expect(secrets.size).toBe(1000);
  });

  it('reject anything not shaped like a token before touching the database', () => {
    expect(looksLikeTokenSecret('rgw_short')).toBe(false);
    expect(looksLikeTokenSecret(`xyz_${'a'.repeat(43)}`)).toBe(false);
    expect(looksLikeTokenSecret(`rgw_${'a'.repeat(42)}%`)).toBe(false);
  });

  it('hash to SHA-256 in hex, the same for the same secret only', () => {
    const hash = hashTokenSecret('rgw_example');
    expect(hash).toBe(createHash('sha256').update('rgw_example').digest('hex'));
    expect(hashTokenSecret('rgw_example')).toBe(hash);
    expect(hashTokenSecret('rgw_exampleX')).not.toBe(hash);
  });
});

import { credentialFromAuthorization, tokenFromAuthorization } from './credentials';

const basic = (userinfo: string) => `Basic ${Buffer.from(userinfo).toString('base64')}`;

describe('tokenFromAuthorization', () => {
  it('takes the Basic password whatever the user name', () => {
    expect(tokenFromAuthorization(basic('convox:rgw_abc'))).toBe('rgw_abc');
    expect(tokenFromAuthorization(basic('anyone:rgw_abc'))).toBe('rgw_abc');
    expect(tokenFromAuthorization(basic(':rgw_abc'))).toBe('rgw_abc');
  });

  it('undoes the percent-encoding the convox CLI applies to passwords', () => {
    expect(tokenFromAuthorization(basic('convox:rgw_a%2Fb%3Ac'))).toBe('rgw_a/b:c');
  });

  it('keeps a password that is not valid percent-encoding as sent', () => {
    expect(tokenFromAuthorization(basic('convox:rgw_%zz'))).toBe('rgw_%zz');
  });

  it('accepts Bearer, case-insensitively', () => {
    expect(tokenFromAuthorization('Bearer rgw_abc')).toBe('rgw_abc');
    expect(tokenFromAuthorization('bearer rgw_abc')).toBe('rgw_abc');
  });

  it('yields nothing for missing, empty or unknown credentials', () => {
    expect(tokenFromAuthorization(undefined)).toBeUndefined();
    expect(tokenFromAuthorization('Basic')).toBeUndefined();
    expect(tokenFromAuthorization(basic('convox:'))).toBeUndefined();
    expect(tokenFromAuthorization(basic('no-colon'))).toBeUndefined();
    expect(tokenFromAuthorization('Digest abc')).toBeUndefined();
    expect(tokenFromAuthorization('Bearer ')).toBeUndefined();
  });
});

describe('credentialFromAuthorization', () => {
  const token = `rgw_${'a'.repeat(43)}`;

  it('separates a second-factor code riding after the token', () => {
    expect(credentialFromAuthorization(basic(`convox:${token}.totp.123456`))).toEqual({
      token,
      secondFactor: { method: 'totp', code: '123456' },
    });
    expect(credentialFromAuthorization(`Bearer ${token}.backup.ABCD-EF01-2345`)).toEqual({
      token,
      secondFactor: { method: 'backup', code: 'ABCD-EF01-2345' },
    });
  });

  it('leaves a token without a known suffix whole, so it fails as the token it is', () => {
    expect(credentialFromAuthorization(basic(`convox:${token}`))).toEqual({ token });
    expect(credentialFromAuthorization(basic(`convox:${token}.sms.123456`))).toEqual({ token: `${token}.sms.123456` });
    expect(tokenFromAuthorization(basic(`convox:${token}.totp.123456`))).toBe(token);
  });
});

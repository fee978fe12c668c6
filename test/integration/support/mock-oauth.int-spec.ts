import { createHash } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { Strategy as GoogleStrategy, type Profile } from 'passport-google-oauth20';
import {
  CODE_LIFETIME_MS,
  DEFAULT_MOCK_IDENTITY,
  startMockOAuthProvider,
  type MockOAuthProvider,
  type MockOAuthRequest,
} from '../../support/mock-oauth';

const CLIENT_ID = 'rack-gateway-test.apps.googleusercontent.com';
const CLIENT_SECRET = 'mock-client-secret';
const CALLBACK = 'http://127.0.0.1:3000/auth/google/callback';

let provider: MockOAuthProvider;
let now: number;

beforeEach(async () => {
  now = Date.UTC(2025, 0, 1);
  provider = await startMockOAuthProvider({
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    redirectUris: [CALLBACK],
    clock: () => now,
  });
});

afterEach(() => provider.close());

function authorizationUrl(overrides: Record<string, string | undefined> = {}): string {
  const params = {
    client_id: CLIENT_ID,
    response_type: 'code',
    redirect_uri: CALLBACK,
    scope: 'email profile',
    state: 'state-123',
    ...overrides,
  };
  const url = new URL('/o/oauth2/v2/auth', provider.url);
  for (const [name, value] of Object.entries(params)) if (value !== undefined) url.searchParams.set(name, value);
  return url.href;
}

const authorize = (overrides: Record<string, string | undefined> = {}): Promise<Response> =>
  fetch(authorizationUrl(overrides), { redirect: 'manual' });

function callbackParams(response: Response): URLSearchParams {
  const location = response.headers.get('location');
  if (location === null) throw new Error(`expected a redirect, got ${response.status}`);
  expect(location.startsWith(`${CALLBACK}?`)).toBe(true);
  return new URL(location).searchParams;
}

async function authorizeForCode(overrides: Record<string, string | undefined> = {}): Promise<string> {
  const response = await authorize(overrides);
  expect(response.status).toBe(302);
  const code = callbackParams(response).get('code');
  if (code === null) throw new Error('redirect carried no code');
  return code;
}

const redemption = (code: string, overrides: Record<string, string> = {}): Record<string, string> => ({
  grant_type: 'authorization_code',
  code,
  redirect_uri: CALLBACK,
  client_id: CLIENT_ID,
  client_secret: CLIENT_SECRET,
  ...overrides,
});

const redeem = (form: Record<string, string>, headers: Record<string, string> = {}): Promise<Response> =>
  fetch(`${provider.url}/oauth2/v4/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(form),
  });

const userinfo = (headers: Record<string, string> = {}, query = ''): Promise<Response> =>
  fetch(`${provider.url}/oauth2/v3/userinfo${query}`, { headers });

function stringField(body: unknown, name: string): string {
  const value: unknown = typeof body === 'object' && body !== null ? Reflect.get(body, name) : undefined;
  if (typeof value !== 'string') throw new Error(`expected a string ${name} in ${JSON.stringify(body)}`);
  return value;
}

async function accessTokenFor(code: string): Promise<string> {
  const response = await redeem(redemption(code));
  expect(response.status).toBe(200);
  return stringField(await response.json(), 'access_token');
}

const tokenCalls = (): MockOAuthRequest[] => provider.requests().filter((request) => request.path === '/oauth2/v4/token');

describe('mock Google OAuth provider', () => {
  it('runs the authorization code flow, echoing state and answering the default identity', async () => {
    const callback = callbackParams(await authorize({ state: 'csrf-token-1' }));
    expect(callback.get('state')).toBe('csrf-token-1');
    expect(callback.get('scope')).toBe('email profile');
    const code = callback.get('code');
    if (code === null) throw new Error('redirect carried no code');

    const tokenResponse = await redeem(redemption(code));
    expect(tokenResponse.status).toBe(200);
    expect(tokenResponse.headers.get('cache-control')).toBe('no-store');
    const tokens = await tokenResponse.json();
    expect(tokens).toEqual({
      access_token: expect.any(String),
      expires_in: 3599,
      token_type: 'Bearer',
      scope: 'email profile',
      id_token: expect.stringMatching(/^[\w-]+\.[\w-]+\.$/),
    });

    const profile = await userinfo({ authorization: `Bearer ${stringField(tokens, 'access_token')}` });
    expect(profile.status).toBe(200);
    expect(await profile.json()).toEqual({
      sub: expect.stringMatching(/^1\d{20}$/),
      name: 'Default User',
      given_name: 'Default',
      family_name: 'User',
      picture: expect.any(String),
      email: DEFAULT_MOCK_IDENTITY.email,
      email_verified: true,
    });

    expect(provider.requests()).toEqual([
      expect.objectContaining({
        method: 'GET',
        path: '/o/oauth2/v2/auth',
        status: 302,
        query: expect.objectContaining({ state: 'csrf-token-1' }),
      }),
      expect.objectContaining({
        method: 'POST',
        path: '/oauth2/v4/token',
        status: 200,
        client: { id: CLIENT_ID, method: 'client_secret_post' },
        form: expect.not.objectContaining({ client_secret: expect.anything() }),
      }),
      expect.objectContaining({ method: 'GET', path: '/oauth2/v3/userinfo', status: 200, accessTokenIn: 'header' }),
    ]);
  });

  it('accepts client credentials by HTTP Basic and on the /token alias', async () => {
    const code = await authorizeForCode();
    const basic = Buffer.from(`${encodeURIComponent(CLIENT_ID)}:${encodeURIComponent(CLIENT_SECRET)}`).toString('base64');
    const response = await fetch(`${provider.url}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${basic}` },
      body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: CALLBACK }),
    });

    expect(response.status).toBe(200);
    expect(provider.requests().at(-1)).toMatchObject({ path: '/token', client: { id: CLIENT_ID, method: 'client_secret_basic' } });
  });

  it('redeems a code once and revokes what it bought when it is replayed', async () => {
    const code = await authorizeForCode();
    const accessToken = await accessTokenFor(code);

    const replay = await redeem(redemption(code));

    expect(replay.status).toBe(400);
    expect(await replay.json()).toMatchObject({ error: 'invalid_grant' });
    expect((await userinfo({ authorization: `Bearer ${accessToken}` })).status).toBe(401);
    expect(tokenCalls().map((call) => call.status)).toEqual([200, 400]);
  });

  it('expires codes after 60 seconds', async () => {
    const stillValid = await authorizeForCode();
    const expired = await authorizeForCode();
    now += CODE_LIFETIME_MS - 1;
    expect((await redeem(redemption(stillValid))).status).toBe(200);

    now += 1;
    const late = await redeem(redemption(expired));

    expect(late.status).toBe(400);
    expect(await late.json()).toMatchObject({ error: 'invalid_grant' });
  });

  it('rejects a wrong client secret with 401 invalid_client and leaves the code redeemable', async () => {
    const code = await authorizeForCode();

    const rejected = await redeem(redemption(code, { client_secret: 'not-the-secret' }));

    expect(rejected.status).toBe(401);
    expect(await rejected.json()).toMatchObject({ error: 'invalid_client' });
    expect(tokenCalls()[0].client).toBeUndefined();
    expect((await redeem(redemption(code))).status).toBe(200);
  });

  it('binds a code to the redirect_uri of its authorization request', async () => {
    const otherCallback = 'http://127.0.0.1:3000/other/callback';
    provider.allowRedirectUri(otherCallback);
    const code = await authorizeForCode();

    const response = await redeem(redemption(code, { redirect_uri: otherCallback }));

    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: 'invalid_grant' });
  });

  it('checks a PKCE code_verifier against its S256 code_challenge', async () => {
    const verifier = 'a-code-verifier-that-is-long-enough-for-rfc-7636-0123456789';
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    const code = await authorizeForCode({ code_challenge: challenge, code_challenge_method: 'S256' });

    expect((await redeem(redemption(code, { code_verifier: 'wrong' }))).status).toBe(400);
    expect((await redeem(redemption(code, { code_verifier: verifier }))).status).toBe(200);
  });

  it.each([
    ['an unregistered redirect_uri', { redirect_uri: 'http://127.0.0.1:3000/auth/google/callback/' }, 'redirect_uri_mismatch'],
    ['a missing redirect_uri', { redirect_uri: undefined }, 'redirect_uri_mismatch'],
    ['an unknown client', { client_id: 'someone-else.apps.googleusercontent.com' }, 'invalid_client'],
  ])('answers %s with 400 and never redirects', async (_case, overrides, error) => {
    provider.queueDenial();

    const response = await authorize(overrides);

    expect(response.status).toBe(400);
    expect(response.headers.get('location')).toBeNull();
    expect(await response.text()).toContain(error);
  });

  it('redirects to a callback allowed after start-up', async () => {
    const lateCallback = 'http://127.0.0.1:45678/auth/google/callback';
    provider.allowRedirectUri(lateCallback);

    const response = await authorize({ redirect_uri: lateCallback });

    expect(response.headers.get('location')).toMatch(/^http:\/\/127\.0\.0\.1:45678\/auth\/google\/callback\?/);
  });

  it.each([
    ['no state', { state: undefined }, 'invalid_request'],
    ['an empty state', { state: '' }, 'invalid_request'],
    ['response_type=token', { response_type: 'token' }, 'unsupported_response_type'],
    ['no email scope', { scope: 'openid profile' }, 'invalid_scope'],
    ['email without profile or openid', { scope: 'email' }, 'invalid_scope'],
    ['an unknown scope', { scope: 'email profile https://www.googleapis.com/auth/drive' }, 'invalid_scope'],
  ])('answers an authorization request with %s with 400', async (_case, overrides, error) => {
    const response = await authorize(overrides);

    expect(response.status).toBe(400);
    expect(response.headers.get('location')).toBeNull();
    expect(await response.text()).toContain(error);
  });

  it('accepts openid in place of profile, answering no name without the profile scope', async () => {
    const accessToken = await accessTokenFor(await authorizeForCode({ scope: 'openid email' }));

    const body = await (await userinfo({ authorization: `Bearer ${accessToken}` })).json();

    expect(body).toMatchObject({ email: DEFAULT_MOCK_IDENTITY.email, email_verified: true });
    expect(body).not.toHaveProperty('name');
  });

  it('requires a valid access token at userinfo', async () => {
    const accessToken = await accessTokenFor(await authorizeForCode());

    const missing = await userinfo();
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toMatch(/^Bearer /);
    expect((await userinfo({ authorization: 'Bearer ya29.not-issued' })).status).toBe(401);
    expect((await userinfo({ authorization: `Basic ${accessToken}` })).status).toBe(401);
    // node-oauth, under passport-google-oauth20, sends the token in the query; Google allows it.
    expect((await userinfo({}, `?access_token=${encodeURIComponent(accessToken)}`)).status).toBe(200);
    expect(provider.requests().at(-1)).toMatchObject({ accessTokenIn: 'query' });
  });

  it('expires access tokens after their expires_in', async () => {
    const accessToken = await accessTokenFor(await authorizeForCode());
    now += 3599 * 1000;

    expect((await userinfo({ authorization: `Bearer ${accessToken}` })).status).toBe(401);
  });

  it('logs in queued identities in order, then falls back to the default', async () => {
    provider.queueLogin({ email: 'ada@example.org', name: 'Ada Lovelace', hostedDomain: 'example.org', emailVerified: false, sub: '42' });
    provider.queueLogin({ email: 'grace@example.org' });

    const identities: unknown[] = [];
    for (let login = 0; login < 3; login += 1) {
      const accessToken = await accessTokenFor(await authorizeForCode());
      identities.push(await (await userinfo({ authorization: `Bearer ${accessToken}` })).json());
    }

    expect(identities).toEqual([
      expect.objectContaining({ sub: '42', email: 'ada@example.org', name: 'Ada Lovelace', email_verified: false, hd: 'example.org' }),
      expect.objectContaining({ email: 'grace@example.org', name: 'grace', email_verified: true }),
      expect.objectContaining({ email: DEFAULT_MOCK_IDENTITY.email }),
    ]);
    expect(identities[1]).not.toHaveProperty('hd');
  });

  it('answers a queued denial with error=access_denied and the state, then logs in again', async () => {
    provider.queueDenial();

    const denied = callbackParams(await authorize({ state: 'csrf-token-2' }));

    expect(Object.fromEntries(denied)).toEqual({ error: 'access_denied', state: 'csrf-token-2' });
    expect(await authorizeForCode()).toEqual(expect.any(String));
  });

  it('puts the client, account and nonce in an unsigned id_token', async () => {
    provider.queueLogin({ email: 'ada@example.org', sub: '42' });
    const response = await redeem(redemption(await authorizeForCode({ scope: 'openid email profile', nonce: 'n-0S6' })));

    const [header, payload, signature] = stringField(await response.json(), 'id_token').split('.');

    expect(JSON.parse(Buffer.from(header, 'base64url').toString())).toEqual({ alg: 'none', typ: 'JWT' });
    expect(JSON.parse(Buffer.from(payload, 'base64url').toString())).toMatchObject({
      iss: provider.url,
      aud: CLIENT_ID,
      sub: '42',
      email: 'ada@example.org',
      nonce: 'n-0S6',
      iat: now / 1000,
      exp: now / 1000 + 3599,
    });
    expect(signature).toBe('');
  });

  it('closes while a request is still in flight, and closes twice', async () => {
    const stalled = httpRequest(`${provider.url}/oauth2/v4/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': '100' },
    });
    const reset = new Promise<string | undefined>((resolve) => stalled.on('error', (error: NodeJS.ErrnoException) => resolve(error.code)));
    stalled.write('grant_type=');
    while (provider.requests().length === 0) await new Promise((resolve) => setImmediate(resolve));

    await expect(provider.close()).resolves.toBeUndefined();
    await expect(provider.close()).resolves.toBeUndefined();
    expect(await reset).toBe('ECONNRESET');
  });
});

describe('mock Google OAuth provider behind passport-google-oauth20', () => {
  type StrategyOutcome =
    | { kind: 'redirect'; url: string }
    | { kind: 'success'; user: Express.User }
    | { kind: 'fail'; challenge: unknown }
    | { kind: 'error'; error: unknown };

  const profiles: Profile[] = [];

  function googleStrategy(): GoogleStrategy {
    return new GoogleStrategy(
      {
        clientID: CLIENT_ID,
        clientSecret: CLIENT_SECRET,
        callbackURL: CALLBACK,
        scope: ['email', 'profile'],
        authorizationURL: `${provider.url}/o/oauth2/v2/auth`,
        tokenURL: `${provider.url}/oauth2/v4/token`,
        userProfileURL: `${provider.url}/oauth2/v3/userinfo`,
      },
      (_accessToken, _refreshToken, profile, done) => {
        profiles.push(profile);
        done(null, { id: profile.id });
      },
    );
  }

  // passport.authenticate() gives each request a copy of the strategy carrying these actions; the
  // test does the same so the strategy's real authenticate() runs unchanged.
  function runStrategy(strategy: GoogleStrategy, query: Record<string, string>, options: object = {}): Promise<StrategyOutcome> {
    return new Promise((resolve) => {
      const actions = {
        redirect: (url: string) => resolve({ kind: 'redirect', url }),
        success: (user: Express.User) => resolve({ kind: 'success', user }),
        fail: (challenge: unknown) => resolve({ kind: 'fail', challenge }),
        error: (error: unknown) => resolve({ kind: 'error', error }),
        pass: () => resolve({ kind: 'error', error: new Error('strategy passed') }),
      };
      const perRequest = Object.assign(Object.create(strategy) as GoogleStrategy, actions);
      const request = { query } as unknown as Parameters<GoogleStrategy['authenticate']>[0];
      perRequest.authenticate(request, options);
    });
  }

  beforeEach(() => {
    profiles.length = 0;
  });

  it('logs in through the real strategy and parses the profile', async () => {
    provider.queueLogin({ email: 'ada@example.org', name: 'Ada Lovelace', emailVerified: false, hostedDomain: 'example.org' });
    const strategy = googleStrategy();

    const start = await runStrategy(strategy, {}, { state: 'passport-state' });
    if (start.kind !== 'redirect') throw new Error(`expected a redirect, got ${start.kind}`);
    expect(start.url.startsWith(`${provider.url}/o/oauth2/v2/auth?`)).toBe(true);
    const callback = callbackParams(await fetch(start.url, { redirect: 'manual' }));
    const finish = await runStrategy(strategy, Object.fromEntries(callback));

    expect(finish).toEqual({ kind: 'success', user: { id: profiles[0]?.id } });
    expect(profiles[0]).toMatchObject({
      provider: 'google',
      displayName: 'Ada Lovelace',
      name: { givenName: 'Ada', familyName: 'Lovelace' },
      emails: [{ value: 'ada@example.org', verified: false }],
      _json: { hd: 'example.org' },
    });
    expect(provider.requests()).toEqual([
      expect.objectContaining({
        path: '/o/oauth2/v2/auth',
        query: expect.objectContaining({ state: 'passport-state', scope: 'email profile' }),
      }),
      expect.objectContaining({
        path: '/oauth2/v4/token',
        status: 200,
        client: { id: CLIENT_ID, method: 'client_secret_post' },
        form: expect.objectContaining({ redirect_uri: CALLBACK }),
      }),
      expect.objectContaining({ path: '/oauth2/v3/userinfo', status: 200, accessTokenIn: 'query' }),
    ]);
  });

  it('fails the strategy when the person denies consent', async () => {
    provider.queueDenial();
    const strategy = googleStrategy();
    const start = await runStrategy(strategy, {}, { state: 'passport-state' });
    if (start.kind !== 'redirect') throw new Error(`expected a redirect, got ${start.kind}`);

    const callback = callbackParams(await fetch(start.url, { redirect: 'manual' }));
    const finish = await runStrategy(strategy, Object.fromEntries(callback));

    expect(finish.kind).toBe('fail');
    expect(tokenCalls()).toHaveLength(0);
  });

  it('reports a rejected access token through userProfile as a UserInfoError', async () => {
    const error = await new Promise<unknown>((resolve) => {
      googleStrategy().userProfile('ya29.not-issued', (failure) => resolve(failure));
    });

    expect(error).toMatchObject({ name: 'UserInfoError', code: 'invalid_token', message: 'Invalid Credentials' });
  });
});

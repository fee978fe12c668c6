import { DataSource } from 'typeorm';
import { Clock } from '../../src/common/clock';
import { UsersService } from '../../src/users/users.service';
import type { MockOAuthProvider } from '../support/mock-oauth';
import type { MockRack } from '../support/mock-rack';
import { Browser } from '../support/browser';
import { startSignInStack } from '../support/sign-in-stack';
import { type TestGateway, basicAuth } from '../support/test-gateway';

const ADMIN = 'boss@example.com';
const MINUTE_MS = 60_000;

/** Some of what helmet sets by default: on the gateway's own answers; rack answers pass as the rack sent them. */
const SECURITY_HEADERS = [
  'content-security-policy',
  'strict-transport-security',
  'x-content-type-options',
  'x-frame-options',
  'cross-origin-opener-policy',
  'referrer-policy',
];

describe('Google sign-in, sessions and CSRF', () => {
  let rack: MockRack;
  let oauth: MockOAuthProvider;
  let gateway: TestGateway;
  let close: () => Promise<void>;

  beforeAll(async () => {
    ({ rack, oauth, gateway, close } = await startSignInStack({ ADMIN_USERS: ADMIN }));
  });

  afterAll(() => close());

  afterEach(() => jest.restoreAllMocks());

  /** Stops the gateway's clock at the present; tests move it instead of sleeping. */
  function stopClock(): { readonly start: number; set(at: number): void } {
    const start = Date.now();
    let now = start;
    jest.spyOn(gateway.app.get(Clock), 'now').mockImplementation(() => new Date(now));
    return {
      start,
      set(at: number) {
        now = at;
      },
    };
  }

  const securityHeaders = (response: Response) =>
    Object.fromEntries(SECURITY_HEADERS.map((header) => [header, response.headers.get(header)]));

  const meStatus = async (browser: Browser) => (await browser.get(`${gateway.url}/api/v1/me`)).status;

  async function signIn(
    browser: Browser,
    email: string,
    extra: { emailVerified?: boolean; hostedDomain?: string } = {},
    returnTo = '/api/v1/me',
  ) {
    oauth.queueLogin({ email, name: 'Pat Person', ...extra });
    return browser.follow(`${gateway.url}/api/v1/auth/login?return_to=${encodeURIComponent(returnTo)}`);
  }

  it('signs in an ADMIN_USERS email, lands on return_to, and the session then creates a token that drives the rack', async () => {
    const browser = new Browser();
    const { response, hops } = await signIn(browser, ADMIN);

    expect(hops[1]).toMatch(new RegExp(`^${oauth.url}/o/oauth2/v2/auth\\?`));
    const authorize = new URL(hops[1]);
    expect(authorize.searchParams.get('state')).toMatch(/.{16,}/);
    expect(authorize.searchParams.get('code_challenge_method')).toBe('S256');
    expect(hops[hops.length - 1]).toBe(`${gateway.url}/api/v1/me`);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ user: { email: ADMIN, role: 'admin' }, authenticatedBy: 'session' });

    const csrf = (await (await browser.get(`${gateway.url}/api/v1/auth/csrf`)).json()) as { token: string };
    const created = await browser.request(`${gateway.url}/api/v1/tokens`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-csrf-token': csrf.token },
      body: JSON.stringify({ name: 'ci' }),
    });
    expect(created.status).toBe(201);
    const { token } = (await created.json()) as { token: string };
    expect(token).toMatch(/^rgw_[A-Za-z0-9_-]{43}$/);

    rack.clearRequests();
    const apps = await fetch(`${gateway.url}/apps`, { headers: { authorization: basicAuth(token) } });
    const direct = await fetch(`${rack.url}/apps`, { headers: { authorization: basicAuth(rack.password) } });
    expect(apps.status).toBe(200);
    expect(apps.headers.get('content-type')).toBe(direct.headers.get('content-type'));
    expect(await apps.text()).toBe(await direct.text());
    expect(rack.requests()[0].headers['convox-actor']).toBe(ADMIN);
  });

  it('sets the session cookie HttpOnly and SameSite, for the API and the pages alike', async () => {
    const browser = new Browser();
    oauth.queueLogin({ email: ADMIN });
    const login = await browser.get(`${gateway.url}/api/v1/auth/login`);
    const authorize = await browser.get(login.headers.get('location') ?? '');
    const callback = await browser.get(authorize.headers.get('location') ?? '');
    expect(callback.status).toBe(302);
    const cookie = callback.headers.getSetCookie().find((header) => header.startsWith('rgw_session='));
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Lax/i);
    expect(cookie).toMatch(/Path=\/;/);
  });

  it('never takes the session on a rack path, nor passes its cookie on to the rack', async () => {
    const browser = new Browser();
    expect((await signIn(browser, ADMIN)).response.status).toBe(200);
    rack.clearRequests();

    const proxied = await browser.get(`${gateway.url}/apps`);
    expect(proxied.status).toBe(401);
    expect(proxied.headers.getSetCookie()).toEqual([]);
    expect(rack.requests()).toEqual([]);

    const { token } = await gateway.createUserWithToken('cookie-and-token@example.com', 'viewer');
    const withToken = await browser.get(`${gateway.url}/apps`, { authorization: basicAuth(token) });
    expect(withToken.status).toBe(200);
    expect(rack.requests()[0].headers.cookie).toBeUndefined();
    expect(rack.requests()[0].headers['convox-actor']).toBe('cookie-and-token@example.com');
  });

  it('gives a new session at sign-in: a session cookie planted before it signs nobody in', async () => {
    // The attacker signs in as themselves, then plants that session cookie in the victim's browser.
    await gateway.createUser('planter@example.com', 'viewer');
    const attacker = new Browser();
    expect((await signIn(attacker, 'planter@example.com')).response.status).toBe(200);
    const planted = attacker.cookie(gateway.url, 'rgw_session') ?? '';
    const victim = new Browser();
    victim.setCookie(gateway.url, 'rgw_session', planted);

    expect((await signIn(victim, ADMIN)).response.status).toBe(200);
    expect(victim.cookie(gateway.url, 'rgw_session')).not.toBe(planted);
    const asPlanted = await fetch(`${gateway.url}/api/v1/me`, { headers: { cookie: `rgw_session=${planted}` } });
    // Sign-in replaced the planted session instead of raising it to the victim's account.
    expect(asPlanted.status).toBe(401);
  });

  it('starts a sign-in without a session: its state waits in a signed cookie scoped to the callback', async () => {
    const sessions = () => gateway.app.get(DataSource).query<Array<{ count: string }>>('SELECT count(*) AS count FROM sessions');
    const [{ count: before }] = await sessions();
    for (let visitor = 0; visitor < 30; visitor += 1) {
      const login = await fetch(`${gateway.url}/api/v1/auth/login`, { redirect: 'manual' });
      expect(login.status).toBe(302);
      const cookies = login.headers.getSetCookie();
      expect(cookies.some((cookie) => cookie.startsWith('rgw_session='))).toBe(false);
      const signInCookie = cookies.find((cookie) => cookie.startsWith('rgw_sign_in='));
      expect(signInCookie).toMatch(/Path=\/api\/v1\/auth\/callback/);
      expect(signInCookie).toMatch(/HttpOnly/);
      expect(signInCookie).toMatch(/SameSite=Lax/);
      expect(signInCookie).toMatch(/Max-Age=600/);
    }
    expect((await sessions())[0].count).toBe(before);
  });

  it('ends a session at its absolute lifetime however busy it is, and refuses it once expired', async () => {
    const { idleMs, maxAgeMs } = gateway.config.sessions;
    const clock = stopClock();
    const browser = new Browser();
    expect((await signIn(browser, ADMIN)).response.status).toBe(200);

    // Busy: never idle for long, each request moving the idle expiry on, up to a minute before the end.
    const lastActive = clock.start + maxAgeMs - MINUTE_MS;
    for (let at = clock.start + idleMs - MINUTE_MS; at < lastActive; at += idleMs - MINUTE_MS) {
      clock.set(at);
      expect(await meStatus(browser)).toBe(200);
    }
    clock.set(lastActive);
    expect(await meStatus(browser)).toBe(200);

    clock.set(clock.start + maxAgeMs + 1_000);
    expect(await meStatus(browser)).toBe(401);
  });

  it('ends a session left unused for the idle period, and each use moves that period on', async () => {
    const { idleMs } = gateway.config.sessions;
    const clock = stopClock();
    const browser = new Browser();
    expect((await signIn(browser, ADMIN)).response.status).toBe(200);

    const firstUse = clock.start + idleMs - 1_000;
    clock.set(firstUse);
    expect(await meStatus(browser)).toBe(200);
    // Past the idle period counted from sign-in: alive only because the first use moved it on.
    const secondUse = firstUse + idleMs - 1_000;
    clock.set(secondUse);
    expect(await meStatus(browser)).toBe(200);

    clock.set(secondUse + idleMs + 1_000);
    expect(await meStatus(browser)).toBe(401);
  });

  it('puts the security headers on the gateway’s own answers, and leaves the rack’s answers as the rack sent them', async () => {
    // This gateway is plain HTTP (PUBLIC_URL http://…), where Strict-Transport-Security has no place
    // (RFC 6797 §7.2); over HTTPS it goes on every answer (tls-termination.e2e-spec.ts).
    const { token } = await gateway.createUserWithToken('headers@example.com', 'viewer');
    const own = await fetch(`${gateway.url}/api/v1/me`, { headers: { authorization: basicAuth(token) } });
    expect(own.status).toBe(200);
    expect(securityHeaders(own)).toEqual({
      'content-security-policy': expect.stringContaining("default-src 'self'"),
      'strict-transport-security': null,
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'SAMEORIGIN',
      'cross-origin-opener-policy': 'same-origin',
      'referrer-policy': 'no-referrer',
    });

    const proxied = await fetch(`${gateway.url}/apps`, { headers: { authorization: basicAuth(token) } });
    const direct = await fetch(`${rack.url}/apps`, { headers: { authorization: basicAuth(rack.password) } });
    expect(proxied.status).toBe(200);
    // The rack sets two of them itself (X-Frame-Options: DENY among them); the rest must not appear.
    expect(securityHeaders(proxied)).toEqual(securityHeaders(direct));
    expect(securityHeaders(proxied)).toMatchObject({ 'content-security-policy': null, 'strict-transport-security': null });
  });

  it('refuses a cookie-authenticated change without the CSRF token, and changes nothing', async () => {
    const browser = new Browser();
    await signIn(browser, ADMIN);
    const before = (await (await browser.get(`${gateway.url}/api/v1/tokens`)).json()) as unknown[];
    const refused = await browser.request(`${gateway.url}/api/v1/tokens`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-csrf-token': 'forged' },
      body: JSON.stringify({ name: 'csrf' }),
    });
    expect(refused.status).toBe(403);
    expect(refused.headers.get('content-type')).toContain('application/problem+json');
    expect(await refused.json()).toMatchObject({ status: 403, code: 'invalid_csrf_token' });
    const after = (await (await browser.get(`${gateway.url}/api/v1/tokens`)).json()) as unknown[];
    expect(after).toHaveLength(before.length);
  });

  it('logout revokes the session on the server', async () => {
    const browser = new Browser();
    await signIn(browser, ADMIN);
    const cookie = browser.cookie(gateway.url, 'rgw_session');
    const csrf = (await (await browser.get(`${gateway.url}/api/v1/auth/csrf`)).json()) as { token: string };
    const logout = await browser.request(`${gateway.url}/api/v1/auth/logout`, { method: 'POST', headers: { 'x-csrf-token': csrf.token } });
    expect(logout.status).toBe(204);
    const replayed = await fetch(`${gateway.url}/api/v1/me`, { headers: { cookie: `rgw_session=${cookie}` } });
    expect(replayed.status).toBe(401);
  });

  it('refuses unknown users, unverified emails and denied consent', async () => {
    const stranger = await signIn(new Browser(), 'stranger@example.com');
    expect(stranger.response.status).toBe(403);
    expect(await stranger.response.json()).toMatchObject({ code: 'sign_in_refused', detail: expect.stringContaining('not a user') });

    await gateway.createUser('unverified@example.com', 'viewer');
    const unverified = await signIn(new Browser(), 'unverified@example.com', { emailVerified: false });
    expect(unverified.response.status).toBe(403);
    expect(await unverified.response.json()).toMatchObject({ detail: expect.stringContaining('not verified') });

    oauth.queueDenial();
    const denied = await new Browser().follow(`${gateway.url}/api/v1/auth/login`);
    expect(denied.response.status).toBe(401);
  });

  it('lets a disabled user sign in no longer, and ends their sessions for good', async () => {
    const email = 'leaver@example.com';
    await gateway.createUser(email, 'viewer');
    const browser = new Browser();
    expect((await signIn(browser, email)).response.status).toBe(200);
    await gateway.app.get(UsersService).update(email, { disabled: true });
    expect((await browser.get(`${gateway.url}/api/v1/me`)).status).toBe(401);
    expect((await signIn(new Browser(), email)).response.status).toBe(403);
    // Re-enabled, they sign in afresh: the old session stays ended.
    await gateway.app.get(UsersService).update(email, { disabled: false });
    expect((await browser.get(`${gateway.url}/api/v1/me`)).status).toBe(401);
  });

  it('rejects a callback whose state does not match the sign-in cookie, or that comes without one', async () => {
    const browser = new Browser();
    oauth.queueLogin({ email: ADMIN });
    const login = await browser.get(`${gateway.url}/api/v1/auth/login`);
    const authorize = await browser.get(login.headers.get('location') ?? '');
    const callback = new URL(authorize.headers.get('location') ?? '');
    const tampered = new URL(callback);
    tampered.searchParams.set('state', 'tampered');
    expect((await browser.get(tampered.toString())).status).toBe(401);
    // The cookie is spent by the failed attempt: the genuine callback cannot follow it.
    expect(browser.cookie(gateway.url, 'rgw_sign_in')).toBeUndefined();
    expect((await browser.get(callback.toString())).status).toBe(401);
    expect(browser.cookie(gateway.url, 'rgw_session')).toBeUndefined();

    // Another browser replaying the callback (a stolen code and state) has no sign-in cookie at all.
    oauth.queueLogin({ email: ADMIN });
    const victim = new Browser();
    const victimAuthorize = await victim.get((await victim.get(`${gateway.url}/api/v1/auth/login`)).headers.get('location') ?? '');
    const stolen = await new Browser().get(victimAuthorize.headers.get('location') ?? '');
    expect(stolen.status).toBe(401);

    // A forged cookie (a value the gateway did not sign) is refused the same way.
    oauth.queueLogin({ email: ADMIN });
    const forger = new Browser();
    const forgedAuthorize = await forger.get((await forger.get(`${gateway.url}/api/v1/auth/login`)).headers.get('location') ?? '');
    const forgedCallback = new URL(forgedAuthorize.headers.get('location') ?? '');
    const handle = forgedCallback.searchParams.get('state') ?? '';
    forger.setCookie(gateway.url, 'rgw_sign_in', encodeURIComponent(JSON.stringify({ handle, verifier: 'x'.repeat(43), returnTo: '/' })));
    expect((await forger.get(forgedCallback.toString())).status).toBe(401);
  });

  it('never redirects off the gateway after sign-in', async () => {
    const { hops } = await signIn(new Browser(), ADMIN, {}, 'https://evil.example/steal');
    expect(hops[hops.length - 1]).toBe(`${gateway.url}/api/v1/me`);
  });
});

describe('Google sign-in with allowed domains', () => {
  let oauth: MockOAuthProvider;
  let gateway: TestGateway;
  let close: () => Promise<void>;

  beforeAll(async () => {
    ({ oauth, gateway, close } = await startSignInStack({
      ADMIN_USERS: 'root@corp.example,root@gmail.com',
      GOOGLE_ALLOWED_DOMAINS: 'corp.example',
    }));
  });

  afterAll(() => close());

  const signIn = (email: string, hostedDomain?: string) => {
    oauth.queueLogin({ email, hostedDomain });
    return new Browser().follow(`${gateway.url}/api/v1/auth/login`);
  };

  it('admits a Workspace account of an allowed domain', async () => {
    expect((await signIn('root@corp.example', 'corp.example')).response.status).toBe(200);
  });

  it('refuses other domains, and a personal account that merely carries an allowed address', async () => {
    expect((await signIn('root@gmail.com')).response.status).toBe(403);
    expect((await signIn('root@corp.example')).response.status).toBe(403);
  });
});

import { Clock } from '../../src/common/clock';
import type { UserRole } from '../../src/users/user.entity';
import { AuthenticatorApp } from '../support/authenticators/authenticator-app';
import { Browser } from '../support/browser';
import { fieldOf, hiddenFieldsOf } from '../support/page-forms';
import { startSignInStack } from '../support/sign-in-stack';
import type { MockOAuthProvider } from '../support/mock-oauth';
import { type TestGateway, basicAuth } from '../support/test-gateway';

const ADMIN = 'boss@example.com';
const STEP_MS = 30_000;
const WINDOW_MS = 10 * 60_000;
const STRICT_CSP =
  "default-src 'none';script-src 'self';style-src 'self';img-src 'self' data:;connect-src 'self';form-action 'self';frame-ancestors 'none';base-uri 'none'";
const BACKUP_CODE = /<code>\s*([0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4})\s*<\/code>/g;

/** The authenticator app a person sets up by typing the key the enrolment page shows. */
function appFromPage(page: string): AuthenticatorApp {
  const secret = /<code id="totp-secret">\s*([A-Z2-7]+)\s*<\/code>/.exec(page)?.[1];
  if (!secret) throw new Error(`no key in:\n${page}`);
  return new AuthenticatorApp(`otpauth://totp/Rack%20Gateway:someone?secret=${secret}&issuer=Rack%20Gateway`);
}

/**
 * The MFA pages as a browser meets them, driven over HTTP: Google sign-in against the mock provider,
 * enrolment and the challenge through the pages' forms, with codes from an RFC 6238 authenticator
 * written in the tests and the gateway's clock moved instead of waiting.
 */
describe('MFA pages', () => {
  let oauth: MockOAuthProvider;
  let gateway: TestGateway;
  let close: () => Promise<void>;
  let now = Date.now();
  let people = 0;

  beforeAll(async () => {
    ({ oauth, gateway, close } = await startSignInStack({ ADMIN_USERS: ADMIN, MFA_REQUIRED: 'true' }));
  });

  afterAll(() => close());

  beforeEach(() => {
    jest.spyOn(gateway.app.get(Clock), 'now').mockImplementation(() => new Date(now));
  });

  afterEach(() => jest.restoreAllMocks());

  const url = (path: string) => `${gateway.url}${path}`;
  /** Moves the gateway's clock, and so the authenticator's code, on. */
  const advance = (ms: number) => (now += ms);

  function signIn(browser: Browser, email: string, returnTo = '/api/v1/me') {
    oauth.queueLogin({ email, name: 'Pat Person' });
    return browser.follow(url(`/api/v1/auth/login?return_to=${encodeURIComponent(returnTo)}`));
  }

  function postForm(browser: Browser, path: string, fields: Record<string, string>) {
    return browser.request(url(path), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(fields).toString(),
    });
  }

  /** Posts the page's form (the one holding `field`) with its hidden fields and the given values. */
  function submit(browser: Browser, page: string, action: string, values: Record<string, string>) {
    return postForm(browser, action, { ...hiddenFieldsOf(page, action), ...values });
  }

  const tokensStatus = async (browser: Browser) => (await browser.get(url('/api/v1/tokens'))).status;

  /** A person who enrolled an authenticator app through the pages, their sign-in then left behind. */
  async function enrolledPerson(role: UserRole): Promise<{ email: string; app: AuthenticatorApp; backupCodes: string[] }> {
    const email = `person-${(people += 1)}@example.com`;
    await gateway.createUser(email, role);
    const browser = new Browser();
    const page = await (await signIn(browser, email)).response.text();
    const app = appFromPage(page);
    const confirmed = await submit(browser, page, '/ui/mfa/enroll/totp', { code: app.codeAt(now) });
    expect(confirmed.status).toBe(200);
    const backupCodes = [...(await confirmed.text()).matchAll(BACKUP_CODE)].map((match) => match[1]);
    // Onto a fresh step and past the window enrolment opened.
    advance(WINDOW_MS + STEP_MS);
    return { email, app, backupCodes };
  }

  it('sends an ADMIN_USERS person to enrol at first sign-in; the forms enrol an app and show ten backup codes once', async () => {
    const browser = new Browser();
    const { response, hops } = await signIn(browser, ADMIN);
    expect(hops[hops.length - 1]).toBe(url('/ui/mfa/enroll?return_to=%2Fapi%2Fv1%2Fme'));
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const page = await response.text();
    expect(page).toMatch(/<img class="qr-code" src="data:image\/svg\+xml;base64,[A-Za-z0-9+/=]+"/);
    // Not enrolled yet: only enrolment and what it needs are reachable.
    expect(await tokensStatus(browser)).toBe(403);

    const app = appFromPage(page);
    const mistyped = await submit(browser, page, '/ui/mfa/enroll/totp', { code: app.codeAt(now, 5) });
    expect(mistyped.status).toBe(400);
    const again = await mistyped.text();
    expect(again).toContain('the code does not confirm this authenticator: wrong code');
    // The same authenticator again, so the app already set up still works.
    expect(fieldOf(again, 'id')).toBe(fieldOf(page, 'id'));
    expect(appFromPage(again).codeAt(now)).toBe(app.codeAt(now));

    const confirmed = await submit(browser, again, '/ui/mfa/enroll/totp', { code: app.codeAt(now) });
    expect(confirmed.status).toBe(200);
    expect(confirmed.headers.get('cache-control')).toBe('no-store');
    const shown = await confirmed.text();
    const backupCodes = [...shown.matchAll(BACKUP_CODE)].map((match) => match[1]);
    expect(backupCodes).toHaveLength(10);
    expect(new Set(backupCodes).size).toBe(10);
    expect(shown).toContain('<a class="button" href="/api/v1/me">Continue</a>');

    const me = await browser.get(url('/api/v1/me'));
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({ user: { email: ADMIN, role: 'admin' } });
    expect(await tokensStatus(browser)).toBe(200);

    // Once: sending the form again shows no codes, the authenticator being confirmed already.
    const resent = await submit(browser, again, '/ui/mfa/enroll/totp', { code: app.codeAt(now, 1) });
    expect(resent.status).toBe(404);
    expect(await resent.text()).not.toMatch(BACKUP_CODE);
  });

  it('signs an enrolled person in through the challenge: the API waits for it, a wrong code is refused, the right one finishes', async () => {
    const person = await enrolledPerson('viewer');
    const browser = new Browser();
    const { response, hops } = await signIn(browser, person.email);
    expect(hops[hops.length - 1]).toBe(url('/ui/mfa/challenge?return_to=%2Fapi%2Fv1%2Fme'));
    const page = await response.text();
    expect(page).toContain(`Signed in as <strong>${person.email}</strong>`);

    const early = await browser.get(url('/api/v1/tokens'));
    expect(early.status).toBe(401);
    expect(await early.json()).toMatchObject({ code: 'second_factor_required' });
    // `me` is reachable meanwhile, and says what is missing.
    const pending = (await (await browser.get(url('/api/v1/me'))).json()) as { secondFactor: { signInPending: boolean } };
    expect(pending.secondFactor.signInPending).toBe(true);

    const wrong = await submit(browser, page, '/ui/mfa/challenge', { code: person.app.codeAt(now, 5) });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const refused = await wrong.text();
    expect(refused).toContain('<p class="error" role="alert">second factor refused: wrong code</p>');
    expect(await tokensStatus(browser)).toBe(401);

    const right = await submit(browser, refused, '/ui/mfa/challenge', { code: person.app.codeAt(now) });
    expect(right.status).toBe(303);
    expect(right.headers.get('location')).toBe('/api/v1/me');
    const me = await browser.get(url('/api/v1/me'));
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({ user: { email: person.email }, authenticatedBy: 'session' });
    expect(await tokensStatus(browser)).toBe(200);
  });

  it('takes a backup code on the challenge once', async () => {
    const person = await enrolledPerson('viewer');
    const [code] = person.backupCodes;

    const first = new Browser();
    const page = await (await signIn(first, person.email)).response.text();
    const used = await submit(first, page, '/ui/mfa/challenge', { code: code.toLowerCase() });
    expect(used.status).toBe(303);
    expect(await tokensStatus(first)).toBe(200);

    const second = new Browser();
    const secondPage = await (await signIn(second, person.email)).response.text();
    const reused = await submit(second, secondPage, '/ui/mfa/challenge', { code });
    expect(reused.status).toBe(401);
    expect(await reused.text()).toContain('second factor refused: unknown or already used backup code');
    expect(await tokensStatus(second)).toBe(401);
  });

  it('refuses a form posted without the session’s CSRF token, and it changes nothing', async () => {
    const person = await enrolledPerson('viewer');
    const browser = new Browser();
    const page = await (await signIn(browser, person.email)).response.text();
    const code = person.app.codeAt(now);

    for (const csrf of [undefined, 'forged']) {
      const forged = await postForm(browser, '/ui/mfa/challenge', { ...(csrf ? { _csrf: csrf } : {}), return_to: '/api/v1/me', code });
      expect(forged.status).toBe(403);
      expect(forged.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(await forged.text()).toContain('missing or invalid CSRF token');
    }
    expect(await tokensStatus(browser)).toBe(401);
    // The code was never looked at, so it is still good.
    expect((await submit(browser, page, '/ui/mfa/challenge', { code })).status).toBe(303);
  });

  it('serves the pages, their errors and assets with a strict CSP and never lets them be stored', async () => {
    const person = await enrolledPerson('viewer');
    const browser = new Browser();
    const { response: challenge } = await signIn(browser, person.email);
    const challengePage = await challenge.text();
    const refused = await submit(browser, challengePage, '/ui/mfa/challenge', { code: person.app.codeAt(now, 5) });
    expect((await submit(browser, challengePage, '/ui/mfa/challenge', { code: person.app.codeAt(now) })).status).toBe(303);
    const missing = await browser.get(url('/ui/no-such-page'));
    const script = await browser.get(url('/ui/assets/mfa.js'));
    const stylesheet = await browser.get(url('/ui/assets/ui.css'));
    const answers = { challenge, refused, missing, script, stylesheet };

    for (const [name, answer] of Object.entries(answers)) {
      expect({ name, csp: answer.headers.get('content-security-policy') }).toEqual({ name, csp: STRICT_CSP });
      expect({ name, cacheControl: answer.headers.get('cache-control') }).toEqual({ name, cacheControl: 'no-store' });
      expect({ name, frameOptions: answer.headers.get('x-frame-options') }).toEqual({ name, frameOptions: 'DENY' });
    }
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await missing.text()).toContain('no such endpoint: GET /ui/no-such-page');
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(await script.text()).toContain('navigator.credentials.get');
    expect(stylesheet.headers.get('content-type')).toBe('text/css; charset=utf-8');
    // Nothing inline for the CSP to have to allow.
    expect(await (await signIn(new Browser(), person.email)).response.text()).not.toMatch(/<script>|<style|\sstyle=|\son[a-z]+=/);

    // The API keeps its own policy (its console needs it).
    const api = await browser.get(url('/api/v1/me'));
    expect(api.headers.get('content-security-policy')).toContain("default-src 'self'");
  });

  it('sends a page asked for without a session to sign in, and back to it after; tokens do not open pages', async () => {
    const person = await enrolledPerson('viewer');
    const browser = new Browser();
    const page = '/ui/mfa/challenge?return_to=%2Fapi%2Fv1%2Ftokens';
    const anonymous = await browser.get(url(page));
    expect(anonymous.status).toBe(303);
    expect(anonymous.headers.get('location')).toBe(`/api/v1/auth/login?return_to=${encodeURIComponent(page)}`);

    oauth.queueLogin({ email: person.email });
    const { response, hops } = await browser.follow(url(page));
    expect(hops[hops.length - 1]).toBe(url(`/ui/mfa/challenge?return_to=${encodeURIComponent(page)}`));
    const right = await submit(browser, await response.text(), '/ui/mfa/challenge', { code: person.app.codeAt(now) });
    expect(right.headers.get('location')).toBe(page);

    const { token } = await gateway.createUserWithToken(`token-${person.email}`, 'viewer');
    const withToken = await fetch(url(page), { redirect: 'manual', headers: { authorization: basicAuth(token) } });
    expect(withToken.status).toBe(303);
    expect(withToken.headers.get('location')).toMatch(/^\/api\/v1\/auth\/login\?/);
  });

  it('sends an enrolled person whose step-up window closed from enrolment to the challenge, and back', async () => {
    const person = await enrolledPerson('viewer');
    const browser = new Browser();
    const challenge = await (await signIn(browser, person.email)).response.text();
    expect((await submit(browser, challenge, '/ui/mfa/challenge', { code: person.app.codeAt(now) })).status).toBe(303);
    advance(WINDOW_MS + STEP_MS);

    const enrol = '/ui/mfa/enroll?return_to=%2Fapi%2Fv1%2Fme';
    const detour = await browser.get(url(enrol));
    expect(detour.status).toBe(303);
    expect(detour.headers.get('location')).toBe(`/ui/mfa/challenge?return_to=${encodeURIComponent(enrol)}`);
    const stepUp = await (await browser.get(url(detour.headers.get('location') ?? ''))).text();
    const verified = await submit(browser, stepUp, '/ui/mfa/challenge', { code: person.app.codeAt(now) });
    expect(verified.headers.get('location')).toBe(enrol);

    const adding = await browser.get(url(enrol));
    expect(adding.status).toBe(200);
    expect(await adding.text()).toContain('<h1>Add a second factor</h1>');
  });

  it('takes forms on the pages only: the API still refuses them', async () => {
    const person = await enrolledPerson('viewer');
    const browser = new Browser();
    const page = await (await signIn(browser, person.email)).response.text();
    const form = await postForm(browser, '/api/v1/mfa/verify', { _csrf: fieldOf(page, '_csrf'), code: person.app.codeAt(now) });
    expect(form.status).toBe(415);
    expect(await tokensStatus(browser)).toBe(401);
  });
});

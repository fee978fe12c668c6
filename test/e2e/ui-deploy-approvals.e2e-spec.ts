import { Clock } from '../../src/common/clock';
import { AuthenticatorApp } from '../support/authenticators/authenticator-app';
import { Browser } from '../support/browser';
import type { MockOAuthProvider } from '../support/mock-oauth';
import { hiddenFieldsOf } from '../support/page-forms';
import { startSignInStack } from '../support/sign-in-stack';
import { type TestGateway, basicAuth } from '../support/test-gateway';

const APPROVER = 'approver@example.com';
const COMMIT = 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678';
const STEP_MS = 30_000;

/**
 * The deploy approval pages as an approver meets them from a webhook's link: signed in with Google
 * (the mock provider) and a second factor, the queue, the request, and a decision whose code rides
 * in the form.
 */
describe('deploy approval pages', () => {
  let oauth: MockOAuthProvider;
  let gateway: TestGateway;
  let close: () => Promise<void>;
  let now = Date.UTC(2026, 11, 2, 16, 0, 0);
  const browser = new Browser();
  let app: AuthenticatorApp;

  beforeAll(async () => {
    ({ oauth, gateway, close } = await startSignInStack({ ADMIN_USERS: APPROVER, MFA_REQUIRED: 'true' }));
    jest.spyOn(gateway.app.get(Clock), 'now').mockImplementation(() => new Date(now));
    // First sign-in: the enrolment page; its authenticator confirmed through the form.
    oauth.queueLogin({ email: APPROVER, name: 'Ana Approver' });
    const page = await (await browser.follow(url('/api/v1/auth/login?return_to=%2Fui%2Fdeploy-approvals'))).response.text();
    const secret = /<code id="totp-secret">\s*([A-Z2-7]+)\s*<\/code>/.exec(page)?.[1];
    app = new AuthenticatorApp(`otpauth://totp/Rack%20Gateway:approver?secret=${secret}&issuer=Rack%20Gateway`);
    const confirmed = await post('/ui/mfa/enroll/totp', { ...hiddenFieldsOf(page, '/ui/mfa/enroll/totp'), code: app.codeAt(now) });
    expect(confirmed.status).toBe(200);
    now += 11 * 60_000;
  });

  afterAll(async () => {
    jest.restoreAllMocks();
    await close();
  });

  function url(path: string): string {
    return `${gateway.url}${path}`;
  }

  function post(path: string, fields: Record<string, string>): Promise<Response> {
    return browser.request(url(path), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(fields).toString(),
    });
  }

  it('lists a CI request, shows it, and approves it with the code in the form; a wrong code or no CSRF token changes nothing', async () => {
    const { token: ci } = await gateway.createUserWithToken('pipeline@example.com', 'cicd');
    const asked = await fetch(url('/api/v1/deploy-approval-requests'), {
      method: 'POST',
      headers: { authorization: basicAuth(ci), 'content-type': 'application/json' },
      body: JSON.stringify({ app: 'myapp', gitCommit: COMMIT, gitBranch: 'main', message: 'Ship <b>it</b>' }),
    });
    const { id } = (await asked.json()) as { id: string };

    const queue = await browser.get(url('/ui/deploy-approvals'));
    expect(queue.status).toBe(200);
    expect(queue.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await queue.text()).toContain(`<a href="/ui/deploy-approvals/${id}">myapp</a>`);

    const detailPath = `/ui/deploy-approvals/${id}`;
    const page = await (await browser.get(url(detailPath))).text();
    // The commit message is CI's text: escaped, never markup.
    expect(page).toContain('Ship &lt;b&gt;it&lt;/b&gt;');
    expect(page).toContain('<dd id="status">pending</dd>');
    const action = `${detailPath}/decision`;
    const hidden = hiddenFieldsOf(page, action);

    const forged = await post(action, { return_to: detailPath, decision: 'approve', mfa_code: app.codeAt((now += STEP_MS)) });
    expect(forged.status).toBe(403);
    const wrong = await post(action, { ...hidden, decision: 'approve', mfa_code: app.codeAt((now += STEP_MS), 5) });
    expect(wrong.status).toBe(401);
    expect(await wrong.text()).toContain('second factor refused: wrong code');
    expect(await (await browser.get(url(detailPath))).text()).toContain('<dd id="status">pending</dd>');

    const approved = await post(action, { ...hidden, decision: 'approve', note: 'looks good', mfa_code: app.codeAt((now += STEP_MS)) });
    expect(approved.status).toBe(303);
    expect(approved.headers.get('location')).toBe(detailPath);
    const after = await (await browser.get(url(detailPath))).text();
    expect(after).toContain('<dd id="status">approved</dd>');
    expect(after).toContain(`${APPROVER}: approve — looks good`);
    // Approved: the form now offers to extend the window, or to reject.
    expect(after).toContain('value="extend"');
    const seenByCi = (await (
      await fetch(url(`/api/v1/deploy-approval-requests/${id}`), { headers: { authorization: basicAuth(ci) } })
    ).json()) as {
      status: string;
    };
    expect(seenByCi.status).toBe('approved');
  });
});

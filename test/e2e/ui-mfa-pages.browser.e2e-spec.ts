import { type Browser, type BrowserContext, type CDPSession, type ConsoleMessage, type Page, chromium } from 'playwright-core';
import { findChromium } from '../support/chromium';
import { startSignInStack } from '../support/sign-in-stack';
import type { MockOAuthProvider } from '../support/mock-oauth';
import type { TestGateway } from '../support/test-gateway';

// The MFA pages in a real browser: Debian's Chromium, headless, driven by playwright-core, with a
// virtual security key from the Chrome DevTools Protocol. The pages' script, CSP and WebAuthn
// ceremonies meet a browser here, as nowhere else in the suite.
const found = findChromium();
const describeInChromium = found.path === null ? describe.skip : describe;

if (found.path === null) {
  if (process.env.CI === 'true') {
    describe('the MFA pages in Chromium', () => {
      it('runs in CI, where Chromium must be present', () => {
        throw new Error(`${found.reason}: CI must run the browser tests (.ci/run installs Debian's chromium)`);
      });
    });
  } else {
    console.log(`Skipping the browser tests: ${found.reason}. Install Debian's chromium (apt-get install chromium) or set CHROMIUM_BIN.`);
  }
}

const ADMIN = 'ada@example.com';
const BROWSER_TEST_TIMEOUT_MS = 120_000;

describeInChromium('the MFA pages in Chromium', () => {
  let oauth: MockOAuthProvider;
  let gateway: TestGateway;
  let close: (() => Promise<void>) | undefined;
  let browser: Browser;

  beforeAll(async () => {
    ({ oauth, gateway, close } = await startSignInStack({ ADMIN_USERS: ADMIN, MFA_REQUIRED: 'true' }, { publicHost: 'localhost' }));
    browser = await chromium.launch({ executablePath: found.path ?? '', headless: true, timeout: 60_000 });
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await close?.();
  });

  const url = (path: string) => `${gateway.url}${path}`;

  /** What the page's own origin answers, called from inside the page with its cookies. */
  const apiStatus = (page: Page, path: string) => page.evaluate(async (target) => (await fetch(target)).status, path);

  /** A tab with a USB security key that is always touched in time (CDP's virtual authenticator). */
  async function tabWithSecurityKey(context: BrowserContext): Promise<{ page: Page; cdp: CDPSession; authenticatorId: string }> {
    const page = await context.newPage();
    page.setDefaultTimeout(30_000);
    const cdp = await context.newCDPSession(page);
    await cdp.send('WebAuthn.enable');
    const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: {
        protocol: 'ctap2',
        transport: 'usb',
        hasResidentKey: true,
        hasUserVerification: true,
        isUserVerified: true,
        automaticPresenceSimulation: true,
      },
    });
    return { page, cdp, authenticatorId };
  }

  it(
    'enrols a security key at first sign-in, then signs in with it, with nothing the CSP refuses',
    async () => {
      const context = await browser.newContext();
      const { page, cdp, authenticatorId } = await tabWithSecurityKey(context);
      const consoleLines: string[] = [];
      const collect = (message: ConsoleMessage) => consoleLines.push(`${message.type()}: ${message.text()}`);
      page.on('console', collect);
      page.on('pageerror', (error) => consoleLines.push(`pageerror: ${error.message}`));

      // First sign-in: Google (the mock), then enrolment, since MFA is required.
      oauth.queueLogin({ email: ADMIN, name: 'Ada Admin' });
      await page.goto(url('/api/v1/auth/login?return_to=%2Fapi%2Fv1%2Fme'));
      await page.waitForURL(url('/ui/mfa/enroll?return_to=%2Fapi%2Fv1%2Fme'));
      await page.click('#register-security-key');
      await page.locator('#security-key-registered').waitFor({ state: 'visible' });
      const backupCodes = await page.locator('#security-key-backup-codes li').allTextContents();
      expect(backupCodes).toHaveLength(10);
      for (const code of backupCodes) expect(code).toMatch(/^[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}$/);
      expect(await page.locator('#authenticator-app').isHidden()).toBe(true);
      const registered = (await cdp.send('WebAuthn.getCredentials', { authenticatorId })).credentials;
      expect(registered).toHaveLength(1);
      expect(registered[0].rpId).toBe('localhost');

      await Promise.all([page.waitForURL(url('/api/v1/me')), page.click('#security-key-registered a.button')]);
      expect(await apiStatus(page, '/api/v1/tokens')).toBe(200);

      // Signed out, then in again: the challenge, answered by the same key.
      const loggedOut = await page.evaluate(async () => {
        const { token } = (await (await fetch('/api/v1/auth/csrf')).json()) as { token: string };
        return (await fetch('/api/v1/auth/logout', { method: 'POST', headers: { 'x-csrf-token': token } })).status;
      });
      expect(loggedOut).toBe(204);
      oauth.queueLogin({ email: ADMIN, name: 'Ada Admin' });
      await page.goto(url('/api/v1/auth/login?return_to=%2Fapi%2Fv1%2Ftokens'));
      await page.waitForURL(url('/ui/mfa/challenge?return_to=%2Fapi%2Fv1%2Ftokens'));
      expect(await apiStatus(page, '/api/v1/tokens')).toBe(401);
      await Promise.all([page.waitForURL(url('/api/v1/tokens')), page.click('#use-security-key')]);
      expect(await apiStatus(page, '/api/v1/tokens')).toBe(200);
      const [used] = (await cdp.send('WebAuthn.getCredentials', { authenticatorId })).credentials;
      expect(used.signCount).toBeGreaterThan(registered[0].signCount);

      expect(consoleLines.filter((line) => /Content Security Policy|pageerror/.test(line))).toEqual([]);

      // The listening is real: an inline script put into a page is refused, and the console says so.
      await page.goto(url('/ui/mfa/challenge?return_to=%2Fapi%2Fv1%2Fme'));
      const refusal = page.waitForEvent('console', { predicate: (message) => /Content Security Policy/.test(message.text()) });
      await page.evaluate("document.body.append(Object.assign(document.createElement('script'), { textContent: 'void 0' }))");
      expect((await refusal).text()).toContain("script-src 'self'");

      await context.close();
    },
    BROWSER_TEST_TIMEOUT_MS,
  );
});

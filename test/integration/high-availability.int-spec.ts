import { Clock } from '../../src/common/clock';
import { UsersService } from '../../src/users/users.service';
import { AuthenticatorApp } from '../support/authenticators/authenticator-app';
import { Browser } from '../support/browser';
import { freePort } from '../support/free-port';
import { type LoadBalancer, startLoadBalancer } from '../support/load-balancer';
import { type MockOAuthProvider, startMockOAuthProvider } from '../support/mock-oauth';
import { type MockRack, SEED, startMockRack } from '../support/mock-rack';
import { TestDatabase, createTestDatabase, describeOnServers } from '../support/test-database';
import { TEST_OAUTH_CLIENT, TestGateway, basicAuth, startTestGateway } from '../support/test-gateway';
import { RackSocket } from '../support/websocket-client';

const ADMIN = 'lead@example.com';
const WEB_PID = SEED.apps.myapp.processes.web[0];
/** The bound for a change on one instance to hold on the other. */
const WITHIN_MS = 1_000;

/**
 * The acceptance for several instances: two gateways on one Postgres and one Redis, as behind a
 * load balancer that sends each request anywhere. No state may live in one instance alone: sessions,
 * OAuth state, step-up windows, revocations; and neither instance may leave service with the rack.
 */
describeOnServers('two gateway instances behind one load balancer', ['postgres', 'redis'], () => {
  let rack: MockRack;
  let oauth: MockOAuthProvider;
  let database: TestDatabase;
  let a: TestGateway;
  let b: TestGateway;
  let balancer: LoadBalancer;

  beforeAll(async () => {
    rack = await startMockRack();
    oauth = await startMockOAuthProvider({ ...TEST_OAUTH_CLIENT, redirectUris: [] });
    database = await createTestDatabase();
    const balancerPort = await freePort();
    const env = {
      PUBLIC_URL: `http://127.0.0.1:${balancerPort}`,
      DATABASE_URL: database.url ?? '',
      REDIS_URL: process.env.RGW_TEST_REDIS_URL ?? '',
      ADMIN_USERS: ADMIN,
      MFA_REQUIRED: 'true',
    };
    a = await startTestGateway({ rackUrl: rack.url, rackToken: rack.password, oauthUrl: oauth.url, env });
    b = await startTestGateway({ rackUrl: rack.url, rackToken: rack.password, oauthUrl: oauth.url, env });
    balancer = await startLoadBalancer(balancerPort, [a.url, b.url]);
    oauth.allowRedirectUri(`${balancer.url}/api/v1/auth/callback`);
  });

  afterAll(async () => {
    await balancer?.close();
    await a?.close();
    await b?.close();
    await Promise.all([rack?.close(), oauth?.close()]);
    await database?.drop();
  });

  /** Polls until `check` holds; answers how long that took, or fails past `limitMs`. */
  async function within(limitMs: number, check: () => Promise<boolean>): Promise<number> {
    const started = Date.now();
    while (!(await check())) {
      if (Date.now() - started > limitMs) throw new Error(`not within ${limitMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    return Date.now() - started;
  }

  it('a sign-in started on one instance completes on the other, and the session works on both', async () => {
    const browser = new Browser();
    oauth.queueLogin({ email: ADMIN, name: 'Lead' });
    const routedBefore = balancer.routed.length;
    const { hops } = await browser.follow(`${balancer.url}/api/v1/auth/login?return_to=${encodeURIComponent('/api/v1/me')}`);
    // Login and callback went to different instances: the OAuth state is not instance-local.
    expect(balancer.routed.slice(routedBefore, routedBefore + 2)).toEqual([a.url, b.url]);
    // Unenrolled, with enrolment required: sent to enrol first.
    expect(hops).toContain(`${balancer.url}/ui/mfa/enroll?return_to=%2Fapi%2Fv1%2Fme`);
    for (let request = 0; request < 2; request += 1) {
      const me = await browser.get(`${balancer.url}/api/v1/me`);
      expect(me.status).toBe(200);
      expect(await me.json()).toMatchObject({ user: { email: ADMIN }, authenticatedBy: 'session' });
    }
    expect(new Set(balancer.routed.slice(-2))).toEqual(new Set([a.url, b.url]));
  });

  it('a step-up verified on A lets the same token exec on B, and a revocation on A holds on B within a second', async () => {
    let now = Date.now();
    for (const gateway of [a, b]) jest.spyOn(gateway.app.get(Clock), 'now').mockImplementation(() => new Date(now));
    const { token } = await a.createUserWithToken('oncall@example.com', 'ops');
    const post = (gateway: TestGateway, path: string, body: unknown) =>
      fetch(`${gateway.url}${path}`, {
        method: 'POST',
        headers: { authorization: basicAuth(token), 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const started = (await (await post(b, '/api/v1/mfa/totp', {})).json()) as { id: string; otpauth_uri: string };
    const app = new AuthenticatorApp(started.otpauth_uri);
    expect((await post(a, `/api/v1/mfa/totp/${started.id}/confirm`, { code: app.codeAt(now) })).status).toBe(200);
    now += 11 * 60_000;

    const execOn = async (gateway: TestGateway) => {
      const socket = await RackSocket.open(`${gateway.url}/apps/myapp/processes/${WEB_PID}/exec`, {
        authorization: basicAuth(token),
        command: 'echo both',
      });
      await socket.untilEnd(5_000);
      socket.close();
      return socket.output().toString('latin1');
    };
    await expect(execOn(b)).resolves.toMatch(/^ERROR: exec:create needs a second factor/);
    expect((await post(a, '/api/v1/mfa/verify', { code: app.codeAt(now) })).status).toBe(200);
    expect(await within(WITHIN_MS, async () => (await execOn(b)).includes('both'))).toBeLessThan(WITHIN_MS);

    const [{ id }] = (await (await fetch(`${a.url}/api/v1/tokens`, { headers: { authorization: basicAuth(token) } })).json()) as Array<{
      id: string;
    }>;
    const revoke = await fetch(`${a.url}/api/v1/tokens/${id}`, {
      method: 'DELETE',
      headers: { authorization: basicAuth(token), 'x-mfa-totp': app.codeAt(now, 1) },
    });
    expect(revoke.status).toBe(204);
    const refusedOnB = async () => (await fetch(`${b.url}/apps`, { headers: { authorization: basicAuth(token) } })).status === 401;
    expect(await within(WITHIN_MS, refusedOnB)).toBeLessThan(WITHIN_MS);
    jest.restoreAllMocks();
  });

  it('with the rack down, both stay ready and report it; proxied requests get 502', async () => {
    const { user, token } = await a.createUserWithToken('reader@example.com', 'viewer');
    // Enrolled (reads need no second factor, but an unenrolled person reaches nothing).
    await a.app.get(UsersService).setMfaEnrolled(user.id, new Date());
    await rack.close();
    for (const gateway of [a, b]) {
      expect((await fetch(`${gateway.url}/api/v1/health/ready`)).status).toBe(200);
      expect((await fetch(`${gateway.url}/api/v1/health/rack`)).status).toBe(503);
    }
    for (const gateway of [a, b]) {
      const apps = await fetch(`${gateway.url}/apps`, { headers: { authorization: basicAuth(token) } });
      expect(apps.status).toBe(502);
    }
  });
});

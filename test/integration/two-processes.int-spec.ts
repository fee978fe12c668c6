import { Browser } from '../support/browser';
import { freePort } from '../support/free-port';
import { type GatewayProcess, startGatewayProcess } from '../support/gateway-process';
import { type LoadBalancer, startLoadBalancer } from '../support/load-balancer';
import { type MockOAuthProvider, startMockOAuthProvider } from '../support/mock-oauth';
import { type MockRack, startMockRack } from '../support/mock-rack';
import { runScript } from '../support/run-script';
import { TestDatabase, createTestDatabase, describeOnServers } from '../support/test-database';
import { TEST_OAUTH_CLIENT, basicAuth } from '../support/test-gateway';

const ADMIN = 'lead@example.com';
const WITHIN_MS = 1_000;
const START_TIMEOUT_MS = 180_000;

/**
 * The acceptance with real processes: two gateways started as operators start them
 * (src/main.ts), on one Postgres and one Redis, behind a round-robin balancer. They share nothing but
 * the database and Redis (test/integration/high-availability.int-spec.ts covers step-up across
 * instances in one process, where the clock can be moved).
 */
describeOnServers('two gateway processes on one Postgres and one Redis', ['postgres', 'redis'], () => {
  let rack: MockRack;
  let oauth: MockOAuthProvider;
  let database: TestDatabase;
  let balancer: LoadBalancer;
  const gateways: GatewayProcess[] = [];
  let env: Record<string, string>;
  let token: string;

  beforeAll(async () => {
    rack = await startMockRack();
    oauth = await startMockOAuthProvider({ ...TEST_OAUTH_CLIENT, redirectUris: [] });
    database = await createTestDatabase();
    const balancerPort = await freePort();
    env = {
      NODE_ENV: 'development',
      HOST: '127.0.0.1',
      PUBLIC_URL: `http://127.0.0.1:${balancerPort}`,
      RACK_HOST: rack.url,
      RACK_TOKEN: rack.password,
      DATABASE_URL: database.url ?? '',
      REDIS_URL: process.env.RGW_TEST_REDIS_URL ?? '',
      APP_SECRET_KEY: 'two-processes-secret-key-0123456789abcdef',
      GOOGLE_CLIENT_ID: TEST_OAUTH_CLIENT.clientId,
      GOOGLE_CLIENT_SECRET: TEST_OAUTH_CLIENT.clientSecret,
      GOOGLE_OAUTH_BASE_URL: oauth.url,
      ADMIN_USERS: ADMIN,
      // This suite is about instances; second factors across instances are in high-availability.int-spec.ts.
      MFA_REQUIRED: 'false',
      LOG_LEVEL: 'warn',
      SHUTDOWN_GRACE_SECONDS: '0',
    };
    // One after the other: the first runs the migrations.
    for (let index = 0; index < 2; index += 1) gateways.push(await startGatewayProcess(env));
    const created = await runScript('src/cli/create-token.ts', ['--user', ADMIN, '--name', 'ci'], env, 60_000);
    if (created.code !== 0) throw new Error(`token:create failed: ${created.stderr}`);
    token = created.stdout.trim();
    balancer = await startLoadBalancer(
      balancerPort,
      gateways.map((gateway) => gateway.url),
    );
    oauth.allowRedirectUri(`${balancer.url}/api/v1/auth/callback`);
  }, 3 * START_TIMEOUT_MS);

  afterAll(async () => {
    await balancer?.close();
    await Promise.all(gateways.map((gateway) => gateway.stop()));
    await Promise.all([rack?.close(), oauth?.close()]);
    await database?.drop();
  }, 60_000);

  async function status(url: string, headers: Record<string, string> = {}): Promise<number | undefined> {
    try {
      return (await fetch(url, { headers })).status;
    } catch {
      return undefined;
    }
  }

  it('a login on one process is a session on the other', async () => {
    const browser = new Browser();
    oauth.queueLogin({ email: ADMIN, name: 'Lead' });
    const before = balancer.routed.length;
    const { response, hops } = await browser.follow(`${balancer.url}/api/v1/auth/login?return_to=${encodeURIComponent('/api/v1/me')}`);
    expect(new Set(balancer.routed.slice(before, before + 2)).size).toBe(2);
    expect(hops[hops.length - 1]).toBe(`${balancer.url}/api/v1/me`);
    expect(response.status).toBe(200);
    for (let request = 0; request < 2; request += 1) {
      const me = await browser.get(`${balancer.url}/api/v1/me`);
      expect(await me.json()).toMatchObject({ user: { email: ADMIN }, authenticatedBy: 'session' });
    }
  });

  it('a token revoked on one process is refused by the other within a second', async () => {
    const [first, second] = gateways;
    const authorization = basicAuth(token);
    expect(await status(`${second.url}/apps`, { authorization })).toBe(200);
    const [{ id }] = (await (await fetch(`${first.url}/api/v1/tokens`, { headers: { authorization } })).json()) as Array<{ id: string }>;
    expect((await fetch(`${first.url}/api/v1/tokens/${id}`, { method: 'DELETE', headers: { authorization } })).status).toBe(204);
    const revokedAt = Date.now();
    while ((await status(`${second.url}/apps`, { authorization })) !== 401) {
      if (Date.now() - revokedAt > WITHIN_MS) throw new Error('the other process still accepts the token');
      await new Promise((done) => setTimeout(done, 10));
    }
    expect(Date.now() - revokedAt).toBeLessThan(WITHIN_MS);
  });

  it('with the rack stopped, both stay ready and answer proxied requests 502', async () => {
    const created = await runScript('src/cli/create-token.ts', ['--user', ADMIN, '--name', 'reader'], env, 60_000);
    const authorization = basicAuth(created.stdout.trim());
    await rack.close();
    for (const gateway of gateways) {
      expect(await status(`${gateway.url}/api/v1/health/ready`)).toBe(200);
      expect(await status(`${gateway.url}/api/v1/health/rack`)).toBe(503);
      expect(await status(`${gateway.url}/apps`, { authorization })).toBe(502);
    }
  });
});

import { freePort } from '../support/free-port';
import { rackAndGateway } from '../support/gateway-fixture';
import { startsFreshRateWindow } from '../support/rate-windows';
import { type AnswerFrom, requestFrom } from '../support/request-from';
import { basicAuth } from '../support/test-gateway';
import { RackSocket } from '../support/websocket-client';

const BAD_TOKEN = basicAuth(`rgw_${'B'.repeat(43)}`);

// Limits count in one-minute windows: no test may straddle two.
beforeEach(startsFreshRateWindow);

/** The answer headers of every 429: when to come back, and which limit it was (Boundary's form). */
function expectRateLimited(answer: AnswerFrom, bucket: string, limit: number): void {
  expect(answer.status).toBe(429);
  const retryAfter = Number(answer.headers['retry-after']);
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(60);
  expect(answer.headers['ratelimit-policy']).toBe(`${limit};w=60;comment="${bucket}"`);
  expect(answer.headers.ratelimit).toBe(`limit=${limit}, remaining=0, reset=${retryAfter}`);
}

describe('rate limits per client address', () => {
  const fixture = rackAndGateway({ env: { RATE_LIMIT_AUTH_FAILURES_PER_MINUTE: '20', RATE_LIMIT_SIGN_INS_PER_MINUTE: '3' } });
  let viewer: string;

  beforeAll(async () => {
    ({ token: viewer } = await fixture.gateway.createUserWithToken('viewer@example.com', 'viewer'));
  });

  const apps = (from: string, authorization: string, headers: Record<string, string> = {}) =>
    requestFrom(from, `${fixture.gateway.url}/apps`, { headers: { authorization, ...headers } });

  it('answers the 21st bad token from one address 429 in the rack’s shape, and no other address notices', async () => {
    for (let attempt = 1; attempt <= 20; attempt += 1) expect((await apps('127.0.0.2', BAD_TOKEN)).status).toBe(401);
    const refused = await apps('127.0.0.2', BAD_TOKEN);
    expectRateLimited(refused, 'authFailures', 20);
    // The convox CLI prints a plain-text rack error as `ERROR: <text>`.
    expect(refused.body).toMatch(/^rate limited: too many failed authentications from your address \(20 a minute\); retry in \d+ s\n$/);

    expect((await apps('127.0.0.3', basicAuth(viewer))).status).toBe(200);
    expect((await apps('127.0.0.3', BAD_TOKEN)).status).toBe(401);
  });

  it('refuses every credential from a blocked address, a valid one included, and a spoofed X-Forwarded-For changes nothing', async () => {
    const forwardedBefore = fixture.rack.requests().length;
    for (let attempt = 1; attempt <= 21; attempt += 1) await apps('127.0.0.4', BAD_TOKEN);
    expectRateLimited(await apps('127.0.0.4', basicAuth(viewer)), 'authFailures', 20);
    expectRateLimited(await apps('127.0.0.4', basicAuth(viewer), { 'x-forwarded-for': '198.51.100.7' }), 'authFailures', 20);
    expectRateLimited(await apps('127.0.0.4', basicAuth(viewer), { forwarded: 'for=198.51.100.7' }), 'authFailures', 20);
    expect(fixture.rack.requests()).toHaveLength(forwardedBefore);
  });

  it('answers the gateway API with problem details', async () => {
    for (let attempt = 1; attempt <= 21; attempt += 1) await apps('127.0.0.5', BAD_TOKEN);
    const refused = await requestFrom('127.0.0.5', `${fixture.gateway.url}/api/v1/me`, { headers: { authorization: `Bearer ${viewer}` } });
    expectRateLimited(refused, 'authFailures', 20);
    expect(refused.headers['content-type']).toContain('application/problem+json');
    expect(JSON.parse(refused.body)).toMatchObject({ status: 429, code: 'rate_limited', detail: expect.stringMatching(/^rate limited: /) });
  });

  it('counts bad tokens on websockets like HTTP, and refuses the 21st with the rack’s ERROR frame', async () => {
    const logs = async (authorization: string) => {
      const socket = await RackSocket.open(`${fixture.gateway.url}/apps/myapp/logs`, { authorization }, '127.0.0.6');
      const text = (await socket.untilEnd()).map((frame) => frame.data.toString('utf8')).join('');
      socket.close();
      return text;
    };
    for (let attempt = 1; attempt <= 20; attempt += 1) expect(await logs(BAD_TOKEN)).toBe('ERROR: invalid authentication\n');
    expect(await logs(BAD_TOKEN)).toMatch(
      /^ERROR: rate limited: too many failed authentications from your address \(20 a minute\); retry in \d+ s\n$/,
    );
    expect(await logs(basicAuth(viewer))).toMatch(/^ERROR: rate limited: /);
    expect(fixture.rack.requests().filter((entry) => entry.method === 'SOCKET')).toHaveLength(0);
  });

  it('limits sign-in starts per address, so the sign-in page cannot be hammered', async () => {
    for (let attempt = 1; attempt <= 3; attempt += 1) {
      expect((await requestFrom('127.0.0.7', `${fixture.gateway.url}/api/v1/auth/login`)).status).not.toBe(429);
    }
    expectRateLimited(await requestFrom('127.0.0.7', `${fixture.gateway.url}/api/v1/auth/login`), 'signIns', 3);
    expect((await requestFrom('127.0.0.8', `${fixture.gateway.url}/api/v1/auth/login`)).status).not.toBe(429);
  });
});

describe('rate limits behind a trusted proxy', () => {
  const fixture = rackAndGateway({ env: { RATE_LIMIT_AUTH_FAILURES_PER_MINUTE: '5', TRUSTED_PROXIES: '127.0.0.1' } });
  let viewer: string;

  beforeAll(async () => {
    ({ token: viewer } = await fixture.gateway.createUserWithToken('viewer@example.com', 'viewer'));
  });

  /** As the proxy forwards it: whatever the client sent, then the address the proxy saw. */
  const viaProxy = (forwardedFor: string, authorization: string) =>
    requestFrom('127.0.0.1', `${fixture.gateway.url}/apps`, { headers: { authorization, 'x-forwarded-for': forwardedFor } });

  it('takes the client from X-Forwarded-For, right to left, and ignores what the client wrote into it', async () => {
    for (let attempt = 1; attempt <= 5; attempt += 1) {
      // The client forges a different address on each try; the proxy appends the real one.
      expect((await viaProxy(`203.0.113.${attempt}, 198.51.100.9`, BAD_TOKEN)).status).toBe(401);
    }
    expectRateLimited(await viaProxy('203.0.113.6, 198.51.100.9', BAD_TOKEN), 'authFailures', 5);
    expectRateLimited(await viaProxy('203.0.113.77, 198.51.100.9', basicAuth(viewer)), 'authFailures', 5);
    expect((await viaProxy('198.51.100.10', basicAuth(viewer))).status).toBe(200);
  });

  it('believes X-Forwarded-For only from the trusted proxy', async () => {
    for (let attempt = 1; attempt <= 6; attempt += 1) {
      await requestFrom('127.0.0.9', `${fixture.gateway.url}/apps`, {
        headers: { authorization: BAD_TOKEN, 'x-forwarded-for': `192.0.2.${attempt}` },
      });
    }
    const blocked = await requestFrom('127.0.0.9', `${fixture.gateway.url}/apps`, {
      headers: { authorization: basicAuth(viewer), 'x-forwarded-for': '192.0.2.200' },
    });
    expectRateLimited(blocked, 'authFailures', 5);
  });
});

describe('rate limits per caller and rate class', () => {
  const fixture = rackAndGateway({
    env: { RATE_LIMIT_WRITES_PER_MINUTE: '3', RATE_LIMIT_STREAMS_PER_MINUTE: '2', RATE_LIMIT_READS_PER_MINUTE: '50' },
  });
  let ops: string;
  let otherOps: string;

  beforeAll(async () => {
    ({ token: ops } = await fixture.gateway.createUserWithToken('ops@example.com', 'ops'));
    ({ token: otherOps } = await fixture.gateway.createUserWithToken('other@example.com', 'ops'));
  });

  const restart = (token: string) =>
    requestFrom('127.0.0.1', `${fixture.gateway.url}/apps/myapp/services/web/restart`, {
      method: 'POST',
      headers: { authorization: basicAuth(token) },
    });

  it('limits each token’s writes on their own: reads and other tokens go on', async () => {
    for (let attempt = 1; attempt <= 3; attempt += 1) expect((await restart(ops)).status).toBe(200);
    const refused = await restart(ops);
    expectRateLimited(refused, 'write', 3);
    expect(refused.body).toMatch(/^rate limited: too many changes with this credential \(3 a minute\)/);
    expect((await requestFrom('127.0.0.1', `${fixture.gateway.url}/apps`, { headers: { authorization: basicAuth(ops) } })).status).toBe(
      200,
    );
    expect((await restart(otherOps)).status).toBe(200);
    expect(fixture.rack.requests().filter((entry) => entry.path.endsWith('/restart'))).toHaveLength(4);
  });

  it('limits exec, log and proxy sessions as streams, refused with the rack’s ERROR frame', async () => {
    const logs = async () => {
      const socket = await RackSocket.open(`${fixture.gateway.url}/apps/myapp/logs`, {
        authorization: basicAuth(otherOps),
        follow: 'false',
      });
      const text = (await socket.untilEnd()).map((frame) => frame.data.toString('utf8')).join('');
      socket.close();
      return text;
    };
    expect(await logs()).not.toMatch(/ERROR/);
    expect(await logs()).not.toMatch(/ERROR/);
    expect(await logs()).toMatch(
      /^ERROR: rate limited: too many exec, log and proxy sessions with this credential \(2 a minute\); retry in \d+ s\n$/,
    );
  });

  it('limits the admin API per caller too', async () => {
    const { token } = await fixture.gateway.createUserWithToken('admin@example.com', 'admin');
    const statuses: number[] = [];
    for (let attempt = 1; attempt <= 4; attempt += 1) {
      const answer = await requestFrom('127.0.0.1', `${fixture.gateway.url}/api/v1/tokens`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name: `t${attempt}` }),
      });
      statuses.push(answer.status);
    }
    expect(statuses).toEqual([201, 201, 201, 429]);
  });
});

describe('rate limits while Redis cannot be reached', () => {
  const fixture = rackAndGateway(async () => ({
    env: {
      // Nothing listens there: every command to it fails at once.
      REDIS_URL: `redis://127.0.0.1:${await freePort()}`,
      RATE_LIMIT_READS_PER_MINUTE: '2',
      RATE_LIMIT_WRITES_PER_MINUTE: '2',
      RATE_LIMIT_AUTH_FAILURES_PER_MINUTE: '3',
    },
  }));
  let ops: string;

  beforeAll(async () => {
    ({ token: ops } = await fixture.gateway.createUserWithToken('ops@example.com', 'ops'));
  });

  it('lets reads by a valid token through uncounted', async () => {
    for (let attempt = 1; attempt <= 4; attempt += 1) {
      expect((await requestFrom('127.0.0.1', `${fixture.gateway.url}/apps`, { headers: { authorization: basicAuth(ops) } })).status).toBe(
        200,
      );
    }
  });

  it('still limits writes and failed authentications, on this instance alone', async () => {
    const restart = () =>
      requestFrom('127.0.0.1', `${fixture.gateway.url}/apps/myapp/services/web/restart`, {
        method: 'POST',
        headers: { authorization: basicAuth(ops) },
      });
    expect((await restart()).status).toBe(200);
    expect((await restart()).status).toBe(200);
    expectRateLimited(await restart(), 'write', 2);

    for (let attempt = 1; attempt <= 3; attempt += 1) {
      expect((await requestFrom('127.0.0.2', `${fixture.gateway.url}/apps`, { headers: { authorization: BAD_TOKEN } })).status).toBe(401);
    }
    expectRateLimited(
      await requestFrom('127.0.0.2', `${fixture.gateway.url}/apps`, { headers: { authorization: BAD_TOKEN } }),
      'authFailures',
      3,
    );
  });

  it('says so in readiness and, once, in the log', async () => {
    const readiness = await fetch(`${fixture.gateway.url}/api/v1/health/ready`);
    expect(readiness.status).toBe(503);
    expect(await readiness.json()).toMatchObject({
      error: { rateLimitCounters: { status: 'down', message: expect.stringContaining('Redis unreachable') } },
    });
    expect(fixture.gateway.logs.lines.filter((line) => line.includes('Rate-limit counters unreachable in Redis'))).toHaveLength(1);
  });
});

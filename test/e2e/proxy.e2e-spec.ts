import { createServer } from 'node:net';
import { MockRack, startMockRack } from '../support/mock-rack';
import { rawRequest } from '../support/raw-request';
import { TestGateway, basicAuth, startTestGateway } from '../support/test-gateway';
import { TokensService } from '../../src/tokens/tokens.service';
import { UsersService } from '../../src/users/users.service';

describe('proxying the rack API', () => {
  let rack: MockRack;
  let gateway: TestGateway;
  let token: string;

  beforeAll(async () => {
    rack = await startMockRack();
    gateway = await startTestGateway({ rackUrl: rack.url, rackToken: rack.password, env: { RACK_IDLE_TIMEOUT_SECONDS: '1' } });
    // These tests are about carrying requests; authorization has its own suite.
    ({ token } = await gateway.createUserWithToken('dev@example.com', 'admin'));
  });

  afterAll(async () => {
    await gateway.close();
    await rack.close();
  });

  beforeEach(() => rack.reset());

  const lastRequest = () => rack.requests().at(-1);

  it('answers a missing credential with 401, a Basic challenge and the rack error shape; the rack never hears of it', async () => {
    const response = await fetch(`${gateway.url}/apps?`);
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe('Basic realm="Rack Gateway"');
    expect(response.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(await response.text()).toMatch(/^authentication required.*\n$/);
    expect(rack.requests()).toHaveLength(0);
  });

  it.each([
    ['an unknown token', () => `rgw_${'A'.repeat(43)}`],
    ['a malformed token', () => 'not-a-token'],
    ['the rack password itself', () => rack.password],
  ])('refuses %s with 401 invalid authentication', async (_label, credential) => {
    const text = await fetch(`${gateway.url}/apps`, { headers: { authorization: basicAuth(credential()) } });
    expect(text.status).toBe(401);
    expect(await text.text()).toBe('invalid authentication\n');

    const json = await fetch(`${gateway.url}/apps`, { headers: { authorization: basicAuth(credential()), accept: 'application/json' } });
    expect(json.status).toBe(401);
    expect(json.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await json.json()).toEqual({ error: 'invalid authentication' });
    expect(rack.requests()).toHaveLength(0);
  });

  it('refuses expired and revoked tokens', async () => {
    const users = gateway.app.get(UsersService);
    const tokens = gateway.app.get(TokensService);
    const user = await users.create('temp@example.com', 'viewer');
    const expired = await tokens.create(user, { name: 'expired', expiresAt: new Date(Date.now() - 1000) });
    const revoked = await tokens.create(user, { name: 'revoked', expiresAt: null });
    expect((await fetch(`${gateway.url}/apps`, { headers: { authorization: basicAuth(revoked.secret) } })).status).toBe(200);
    await tokens.revoke(revoked.token.id);

    for (const secret of [expired.secret, revoked.secret]) {
      const response = await fetch(`${gateway.url}/apps`, { headers: { authorization: basicAuth(secret) } });
      expect(response.status).toBe(401);
    }
  });

  it("stops a disabled user's token on its very next request, and restores it when re-enabled", async () => {
    const { token: leaverToken } = await gateway.createUserWithToken('leaver@example.com', 'deployer');
    const users = gateway.app.get(UsersService);
    expect((await fetch(`${gateway.url}/apps`, { headers: { authorization: basicAuth(leaverToken) } })).status).toBe(200);
    await users.update('leaver@example.com', { disabled: true });
    expect((await fetch(`${gateway.url}/apps`, { headers: { authorization: basicAuth(leaverToken) } })).status).toBe(401);
    await users.update('leaver@example.com', { disabled: false });
    expect((await fetch(`${gateway.url}/apps`, { headers: { authorization: basicAuth(leaverToken) } })).status).toBe(200);
  });

  it('accepts the token as Bearer and as a percent-encoded Basic password, under any user name', async () => {
    expect((await fetch(`${gateway.url}/apps`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    const encoded = token.replace(/-/g, '%2D');
    expect((await fetch(`${gateway.url}/apps`, { headers: { authorization: basicAuth(encoded, 'someone') } })).status).toBe(200);
  });

  it('swaps credentials, strips tenant and actor headers and the Origin, and names the actor', async () => {
    await fetch(`${gateway.url}/apps?`, {
      headers: {
        authorization: basicAuth(token),
        'convox-tid': 'other-tenant',
        'x-convox-tid': 'other-tenant',
        'x-convox-actor': 'mallory',
        'convox-actor': 'mallory',
        origin: 'https://evil.example',
        cookie: 'rgw_session=stolen',
      },
    });
    const seen = lastRequest();
    expect(seen?.headers.authorization).toBe(basicAuth(rack.password));
    expect(seen?.headers['convox-actor']).toBe('dev@example.com');
    for (const header of ['convox-tid', 'x-convox-tid', 'x-convox-actor', 'origin', 'cookie'])
      expect(seen?.headers[header]).toBeUndefined();
    expect(seen?.path).toBe('/apps');
    expect(seen?.query).toBe('');
  });

  it('forwards form bodies byte for byte on every method, GET and DELETE included', async () => {
    // The CLI really sends these: `generated=` on GET /certificates, `ack_by=` on DELETE .../budget.
    for (const [method, path, body, field] of [
      ['GET', '/certificates', 'generated=true&x=%F0%9F%98%80', 'generated'],
      ['DELETE', '/apps/myapp/budget', 'ack_by=dev%40example.com', 'ack_by'],
    ] as const) {
      const response = await rawRequest(`${gateway.url}${path}`, {
        method,
        headers: { authorization: basicAuth(token), 'content-type': 'application/x-www-form-urlencoded' },
        body,
      });
      expect(response.status).toBeLessThan(500);
      const seen = lastRequest();
      expect(seen?.method).toBe(method);
      expect(seen?.path).toBe(path);
      expect(seen?.bodySize).toBe(Buffer.byteLength(body));
      expect(seen?.form?.[field]).toHaveLength(1);
    }
  });

  it('does not parse a JSON body on a proxied path: it reaches the rack untouched', async () => {
    const body = '{"solvers": [1, 2,   3]}';
    const response = await fetch(`${gateway.url}/letsencrypt/config`, {
      method: 'PUT',
      headers: { authorization: basicAuth(token), 'content-type': 'application/json' },
      body,
    });
    expect(response.status).toBeLessThan(500);
    expect(lastRequest()?.bodySize).toBe(body.length);
  });

  it('creates an app with the form the CLI sends and relays the rack answer and its errors', async () => {
    const form = { authorization: basicAuth(token), 'content-type': 'application/x-www-form-urlencoded' };
    const created = await fetch(`${gateway.url}/apps`, { method: 'POST', headers: form, body: 'name=newapp&generation=2' });
    expect(created.status).toBe(200);
    expect(await created.json()).toMatchObject({ name: 'newapp' });

    const duplicate = await fetch(`${gateway.url}/apps`, { method: 'POST', headers: form, body: 'name=newapp&generation=2' });
    expect(duplicate.status).toBe(409);
    expect(await duplicate.text()).toBe('app already exists: newapp\n');

    const missing = await fetch(`${gateway.url}/apps/nope`, { headers: { authorization: basicAuth(token) } });
    expect(missing.status).toBe(404);
    expect(await missing.text()).toBe('app not found: nope\n');
  });

  it('keeps the rack password out of the repository URL of external builds', async () => {
    const object = await fetch(`${gateway.url}/apps/myapp/objects/tmp/build.tgz`, {
      method: 'POST',
      headers: { authorization: basicAuth(token), 'content-type': 'application/octet-stream' },
      body: Buffer.from('fake tarball'),
    });
    const { Url } = (await object.json()) as { Url: string };
    const build = await fetch(`${gateway.url}/apps/myapp/builds`, {
      method: 'POST',
      headers: { authorization: basicAuth(token), 'content-type': 'application/x-www-form-urlencoded' },
      body: `url=${encodeURIComponent(Url)}&external=true&manifest=convox.yml`,
    });
    const text = await build.text();
    expect(build.status).toBe(200);
    expect(text).not.toContain(rack.password);
    const { id, repository } = JSON.parse(text) as { id: string; repository: string };
    expect(new URL(repository).host).toBe(new URL(gateway.url).host);
    expect(new URL(repository).password).toBe('');

    for (const path of [`/apps/myapp/builds/${id}`, '/apps/myapp/builds']) {
      const again = await fetch(`${gateway.url}${path}`, { headers: { authorization: basicAuth(token) } });
      expect(again.status).toBe(200);
      expect(await again.text()).not.toContain(rack.password);
    }
  });

  it("answers 504 in the rack's shape when the rack goes silent", async () => {
    rack.injectFault({ method: 'GET', path: '/apps', delayMs: 3000, times: 1 });
    const response = await fetch(`${gateway.url}/apps`, { headers: { authorization: basicAuth(token) } });
    expect(response.status).toBe(504);
    expect(await response.text()).toBe('rack timed out\n');
  });

  it('relays rack errors injected at any status unchanged', async () => {
    rack.injectFault({ method: 'GET', path: '/apps', status: 500, body: 'boom', times: 1 });
    const response = await fetch(`${gateway.url}/apps`, { headers: { authorization: basicAuth(token) } });
    expect(response.status).toBe(500);
    expect((await response.text()).trim()).toBe('boom');
  });

  it('keeps the empty-body 404 for paths the rack does not know', async () => {
    const response = await fetch(`${gateway.url}/racks`, { headers: { authorization: basicAuth(token) } });
    expect(response.status).toBe(404);
    expect(await response.text()).toBe('');
  });

  it('answers unknown gateway API paths itself, never forwarding them', async () => {
    const response = await fetch(`${gateway.url}/api/v2/apps`, { headers: { authorization: `Bearer ${token}` } });
    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
    expect(rack.requests()).toHaveLength(0);
  });
});

describe('a rack that is down', () => {
  it("answers 502 in the rack's shape and reports the rack down, while the gateway itself stays ready", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as { port: number }).port;
    await new Promise((resolve) => closed.close(resolve));

    const gateway = await startTestGateway({ rackUrl: `http://127.0.0.1:${port}`, rackToken: 'rack-secret-down' });
    try {
      const { token } = await gateway.createUserWithToken('dev@example.com', 'viewer');
      const response = await fetch(`${gateway.url}/apps`, { headers: { authorization: basicAuth(token), accept: 'application/json' } });
      expect(response.status).toBe(502);
      expect(await response.json()).toEqual({ error: 'rack unreachable (ECONNREFUSED)' });

      // A rack outage must not take every instance out of the load balancer (and the admin API and audit with it).
      const ready = await fetch(`${gateway.url}/api/v1/health/ready`);
      expect(ready.status).toBe(200);
      const readiness = (await ready.json()) as { status: string; details: Record<string, unknown> };
      expect(readiness).toMatchObject({ status: 'ok', details: { database: { status: 'up' } } });
      expect(Object.keys(readiness.details)).toEqual(['instance', 'database']);
      const rackHealth = await fetch(`${gateway.url}/api/v1/health/rack`);
      expect(rackHealth.status).toBe(503);
      expect(await rackHealth.json()).toMatchObject({ status: 'error', error: { rack: { status: 'down', message: 'ECONNREFUSED' } } });
      expect((await fetch(`${gateway.url}/api/v1/health/live`)).status).toBe(200);
    } finally {
      await gateway.close();
    }
  });
});

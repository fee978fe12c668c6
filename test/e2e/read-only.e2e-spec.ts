import { Clock } from '../../src/common/clock';
import { UsersService } from '../../src/users/users.service';
import { AuthenticatorApp } from '../support/authenticators/authenticator-app';
import { rackAndGateway } from '../support/gateway-fixture';
import { growth, requests, scrape } from '../support/metrics-scrape';
import { basicAuth, firstProcessId } from '../support/test-gateway';
import { RackSocket } from '../support/websocket-client';

const EXIT_MARKER = 'F1E49A85-0AD7-4AEF-A618-C249C6E6568D';
const READ_ONLY_REFUSAL =
  'the gateway is in read-only mode: changes to the rack are refused until an operator turns it off; reads still work';

/** READ_ONLY=true: every change to the rack is answered 503 in the rack's shape and never forwarded; reads go on. */
describe('read-only mode', () => {
  const fixture = rackAndGateway({ env: { READ_ONLY: 'true' } });
  let admin: string;
  let pid: string;

  beforeAll(async () => {
    // An admin may do anything: a refusal here is read-only mode's, not the policy's.
    ({ token: admin } = await fixture.gateway.createUserWithToken('admin@example.com', 'admin'));
    pid = await firstProcessId(fixture.gateway.url, admin);
  });

  beforeEach(() => fixture.rack.reset());

  const rack = (method: string, path: string, headers: Record<string, string> = {}, body?: string) =>
    fetch(`${fixture.gateway.url}${path}`, { method, headers: { authorization: basicAuth(admin), ...headers }, body });
  const form = { 'content-type': 'application/x-www-form-urlencoded' };

  it('passes reads to the rack', async () => {
    const apps = await rack('GET', '/apps');
    expect(apps.status).toBe(200);
    expect(await apps.json()).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'myapp' })]));
    expect((await rack('GET', `/apps/myapp/processes/${pid}`)).status).toBe(200);
    expect((await rack('GET', '/system')).status).toBe(200);
    expect(fixture.rack.requests().map((entry) => `${entry.method} ${entry.path}`)).toEqual([
      'GET /apps',
      `GET /apps/myapp/processes/${pid}`,
      'GET /system',
    ]);
  });

  it.each([
    ['an app creation', 'POST', '/apps', 'name=newapp&generation=2'],
    ['a scale', 'PUT', '/apps/myapp/services/web', 'count=3'],
    ['an env change (a release)', 'POST', '/apps/myapp/releases', 'env=FOO%3Dbar'],
    ['a process stop', 'DELETE', '/apps/myapp/processes/{pid}', undefined],
    ['an object upload', 'POST', '/apps/myapp/objects/tmp/upload.tgz', 'bytes'],
    // convox cp reads a file out of a process, with the power of exec: not a read.
    ['a file copied out of a process', 'GET', '/apps/myapp/processes/{pid}/files?path=/etc/hosts', undefined],
  ])('answers %s 503 in the rack’s plain-text shape and never forwards it', async (_label, method, path, body) => {
    const refused = await rack(method, path.replace('{pid}', pid), body === undefined ? {} : form, body);
    expect(refused.status).toBe(503);
    expect(refused.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    // The convox CLI prints this as `ERROR: the gateway is in read-only mode: …`.
    expect(await refused.text()).toBe(`${READ_ONLY_REFUSAL}\n`);
    expect(fixture.rack.requests()).toEqual([]);
  });

  it('answers a client that accepts JSON with the rack’s JSON error', async () => {
    const refused = await rack('POST', '/apps', { ...form, accept: 'application/json' }, 'name=newapp');
    expect(refused.status).toBe(503);
    expect(await refused.json()).toEqual({ error: READ_ONLY_REFUSAL });
    expect(fixture.rack.requests()).toEqual([]);
  });

  it('streams logs over a websocket', async () => {
    const socket = await RackSocket.open(`${fixture.gateway.url}/apps/myapp/logs`, {
      authorization: basicAuth(admin),
      follow: 'false',
      prefix: 'true',
    });
    await socket.untilEnd();
    socket.close();
    expect(socket.output().toString('utf8')).toMatch(/service\/web\//);
    expect(fixture.rack.requests().map((entry) => `${entry.method} ${entry.path}`)).toEqual(['SOCKET /apps/myapp/logs']);
  });

  it('refuses exec the rack’s websocket way (ERROR frame, exit code 1, end of stream) without contacting the rack', async () => {
    const socket = await RackSocket.open(`${fixture.gateway.url}/apps/myapp/processes/${pid}/exec`, {
      authorization: basicAuth(admin),
      command: 'ls',
    });
    const frames = await socket.untilEnd();
    socket.close();
    expect(frames.map((frame) => frame.data.toString('latin1'))).toEqual([`ERROR: ${READ_ONLY_REFUSAL}\n`, `${EXIT_MARKER}:1\n`, '']);
    expect(fixture.rack.requests()).toEqual([]);
  });

  it('refuses a resource console and `convox proxy` the same way', async () => {
    for (const path of ['/apps/myapp/resources/database/console', '/proxy/10.0.0.1/5432']) {
      const socket = await RackSocket.open(`${fixture.gateway.url}${path}`, { authorization: basicAuth(admin) });
      const frames = await socket.untilEnd();
      socket.close();
      expect(frames[0].data.toString('latin1')).toBe(`ERROR: ${READ_ONLY_REFUSAL}\n`);
    }
    expect(fixture.rack.requests()).toEqual([]);
  });

  it('keeps the gateway’s own API working, changes included, so admins can act', async () => {
    const created = await fetch(`${fixture.gateway.url}/api/v1/users`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'new.viewer@example.com', role: 'viewer' }),
    });
    expect(created.status).toBe(201);
  });

  it('shows in the metrics: the mode, and each refusal by route class', async () => {
    const before = await scrape(fixture.gateway.url);
    expect(before.get('rack_gateway_read_only')).toBe(1);
    expect((await rack('PUT', '/apps/myapp/services/web', form, 'count=3')).status).toBe(503);
    const socket = await RackSocket.open(`${fixture.gateway.url}/apps/myapp/processes/${pid}/exec`, {
      authorization: basicAuth(admin),
      command: 'ls',
    });
    await socket.untilEnd();
    socket.close();

    const after = await scrape(fixture.gateway.url);
    expect(growth(before, after, requests('write', 'unavailable', 503))).toBe(1);
    expect(growth(before, after, requests('stream', 'unavailable', 503))).toBe(1);
  });

  it('stays ready and says it is read-only', async () => {
    const readiness = await fetch(`${fixture.gateway.url}/api/v1/health/ready`);
    expect(readiness.status).toBe(200);
    expect(await readiness.json()).toMatchObject({ status: 'ok', info: { instance: { status: 'up', readOnly: true } } });
  });
});

/** An admin's run-time switch: settings:update with a second factor in the request, applied at once, recorded. */
describe('read-only mode turned on by an admin', () => {
  const fixture = rackAndGateway({ env: { MFA_REQUIRED: 'true' } });
  let admin: string;
  let app: AuthenticatorApp;
  let now = Date.UTC(2026, 11, 2, 10, 0, 0);

  beforeAll(async () => {
    jest.spyOn(fixture.gateway.app.get(Clock), 'now').mockImplementation(() => new Date(now));
    ({ token: admin } = await fixture.gateway.createUserWithToken('admin@example.com', 'admin'));
    const started = (await (await call('POST', '/api/v1/mfa/totp', admin, {})).json()) as { id: string; otpauth_uri: string };
    app = new AuthenticatorApp(started.otpauth_uri);
    expect((await call('POST', `/api/v1/mfa/totp/${started.id}/confirm`, admin, { code: app.codeAt(now) })).status).toBe(200);
  });

  afterAll(() => jest.restoreAllMocks());

  function call(method: string, path: string, token: string, body?: unknown, headers: Record<string, string> = {}) {
    return fetch(`${fixture.gateway.url}${path}`, {
      method,
      headers: { authorization: basicAuth(token), ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  }

  it('needs settings:update and a code with the request, then refuses writes until turned off', async () => {
    const { token: deployer, user } = await fixture.gateway.createUserWithToken('deployer@example.com', 'deployer');
    await fixture.gateway.app.get(UsersService).setMfaEnrolled(user.id, new Date(now));
    expect((await call('PUT', '/api/v1/settings/read-only', deployer, { enabled: true })).status).toBe(403);

    now += 30_000;
    expect((await call('PUT', '/api/v1/settings/read-only', admin, { enabled: true })).status).toBe(401);
    const on = await call(
      'PUT',
      '/api/v1/settings/read-only',
      admin,
      { enabled: true, reason: 'rack upgrade' },
      { 'x-mfa-totp': app.codeAt(now) },
    );
    expect(on.status).toBe(200);
    expect(await on.json()).toMatchObject({ enabled: true, source: 'setting', reason: 'rack upgrade', changedBy: 'admin@example.com' });

    fixture.rack.reset();
    const refused = await call('POST', '/apps/myapp/services/web/restart', admin, undefined, { 'x-mfa-totp': app.codeAt(now, 1) });
    expect(refused.status).toBe(503);
    expect(await refused.text()).toBe(`${READ_ONLY_REFUSAL}\n`);
    expect((await call('GET', '/apps', admin)).status).toBe(200);
    expect(fixture.rack.requests().map((entry) => `${entry.method} ${entry.path}`)).toEqual(['GET /apps']);
    expect(
      ((await (await call('GET', '/api/v1/health/ready', admin)).json()) as { info: { instance: { readOnly: boolean } } }).info.instance
        .readOnly,
    ).toBe(true);

    now += 60_000;
    const off = await call('PUT', '/api/v1/settings/read-only', admin, { enabled: false }, { 'x-mfa-totp': app.codeAt(now) });
    expect(await off.json()).toMatchObject({ enabled: false, source: null });
    now += 30_000;
    expect((await call('POST', '/apps/myapp/services/web/restart', admin, undefined, { 'x-mfa-totp': app.codeAt(now) })).status).toBe(200);
  });
});

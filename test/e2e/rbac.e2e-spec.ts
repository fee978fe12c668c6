import { MASK } from '../../src/secrets/secret-values';
import { UsersService } from '../../src/users/users.service';
import { MockRack, SEED_ENV, startMockRack } from '../support/mock-rack';
import { TestGateway, basicAuth, startTestGateway } from '../support/test-gateway';
import { RackSocket } from '../support/websocket-client';

const form = (token: string) => ({ authorization: basicAuth(token), 'content-type': 'application/x-www-form-urlencoded' });

interface Release {
  id: string;
  app: string;
  env: string;
}

describe('authorization', () => {
  let rack: MockRack;
  let gateway: TestGateway;
  let admin: string;
  let deployer: string;
  let viewer: string;
  let scoped: string;

  beforeAll(async () => {
    rack = await startMockRack({ promoteMs: 0 });
    gateway = await startTestGateway({
      rackUrl: rack.url,
      rackToken: rack.password,
      env: { PROTECTED_ENV_KEYS: JSON.stringify({ '*': ['NODE_ENV'] }), SECRET_ENV_KEY_PATTERNS: 'STRIPE' },
    });
    ({ token: admin } = await gateway.createUserWithToken('admin@example.com', 'admin'));
    ({ token: deployer } = await gateway.createUserWithToken('deployer@example.com', 'deployer'));
    ({ token: viewer } = await gateway.createUserWithToken('viewer@example.com', 'viewer'));
    ({ token: scoped } = await gateway.createUserWithToken('scoped@example.com', 'deployer'));
    await gateway.app.get(UsersService).update('scoped@example.com', { appScopes: ['myapp'] });
  });

  afterAll(async () => {
    await gateway.close();
    await rack.close();
  });

  beforeEach(() => rack.reset());

  const get = (path: string, token: string, headers: Record<string, string> = {}) =>
    fetch(`${gateway.url}${path}`, { headers: { authorization: basicAuth(token), ...headers } });
  const latestRelease = async (token: string, app = 'myapp') =>
    ((await (await get(`/apps/${app}/releases?limit=1`, token)).json()) as Release[])[0];
  const postRelease = (token: string, env: string, app = 'myapp') =>
    fetch(`${gateway.url}/apps/${app}/releases`, { method: 'POST', headers: form(token), body: new URLSearchParams({ env }).toString() });
  const rackEnv = (app = 'myapp') => {
    const releases = rack.state().releases.filter((release) => release.app === app);
    return releases.sort((a, b) => (a.created < b.created ? 1 : -1))[0].env;
  };

  describe('denials', () => {
    it("answer 403 in the rack's shape naming the permission and the app, and never reach the rack", async () => {
      const text = await fetch(`${gateway.url}/apps/myapp`, { method: 'DELETE', headers: { authorization: basicAuth(deployer) } });
      expect(text.status).toBe(403);
      expect(await text.text()).toBe('permission denied: apps:delete on app myapp\n');
      const json = await fetch(`${gateway.url}/apps/otherapp/releases`, {
        headers: { authorization: basicAuth(scoped), accept: 'application/json' },
      });
      expect(json.status).toBe(403);
      expect(await json.json()).toEqual({ error: 'permission denied: releases:read on app otherapp' });
      expect(rack.requests()).toHaveLength(0);
    });

    it('say the same for an app that does not exist, so scope never reveals which apps exist', async () => {
      const missing = await get('/apps/no-such-app/releases', scoped);
      const hidden = await get('/apps/otherapp/releases', scoped);
      expect([missing.status, hidden.status]).toEqual([403, 403]);
      expect(await missing.text()).toBe('permission denied: releases:read on app no-such-app\n');
      expect(await hidden.text()).toBe('permission denied: releases:read on app otherapp\n');
    });

    it('refuse routes the table does not know, and app names that are not app names', async () => {
      const unknown = await get('/apps/myapp/secret-backdoor', admin);
      expect(unknown.status).toBe(403);
      expect(await unknown.text()).toBe('the gateway does not allow GET /apps/myapp/secret-backdoor\n');
      const encoded = await get('/apps/my%61pp%2F..%2Fotherapp/releases', scoped);
      expect(encoded.status).toBe(400);
      expect(await encoded.text()).toBe('invalid request target: the path holds an encoded character the gateway does not accept\n');
      expect(rack.requests()).toHaveLength(0);
    });

    it('refuse a websocket the rack way: ERROR frame naming the permission, exit code, end frame', async () => {
      const processes = (await (await get('/apps/myapp/processes', viewer)).json()) as Array<{ id: string }>;
      const socket = await RackSocket.open(`${gateway.url}/apps/myapp/processes/${processes[0].id}/exec`, {
        authorization: basicAuth(viewer),
        command: 'sh',
      });
      const frames = await socket.untilEnd();
      expect(frames[0].data.toString()).toBe('ERROR: permission denied: exec:create on app myapp\n');
      expect(frames.at(-1)).toEqual({ data: Buffer.alloc(0), binary: true });
      expect(rack.requests().filter((entry) => entry.method === 'SOCKET')).toHaveLength(0);
      socket.close();
    });
  });

  describe('app scopes', () => {
    it('GET /apps shows an app-scoped user only its apps', async () => {
      const apps = (await (await get('/apps', scoped)).json()) as Array<{ name: string }>;
      expect(apps.map((app) => app.name)).toEqual(['myapp']);
      const all = (await (await get('/apps', viewer)).json()) as Array<{ name: string }>;
      expect(all.map((app) => app.name).sort()).toEqual(['myapp', 'otherapp']);
    });

    it('lets a scoped deployer deploy its app', async () => {
      const release = await latestRelease(scoped);
      const promote = await fetch(`${gateway.url}/apps/myapp/releases/${release.id}/promote`, {
        method: 'POST',
        headers: form(scoped),
        body: '',
      });
      expect(promote.status).toBe(200);
    });
  });

  describe('secret values', () => {
    it('are visible to admins, masked for deployers and entirely hidden from viewers', async () => {
      expect((await latestRelease(admin)).env).toBe(SEED_ENV.myappSecond);

      const masked = (await latestRelease(deployer)).env.split('\n');
      expect(masked).toEqual([`DATABASE_URL=${MASK}`, 'NODE_ENV=production', `REDIS_URL=${MASK}`, `SECRET_KEY=${MASK}`]);

      const hidden = (await latestRelease(viewer)).env.split('\n');
      expect(hidden.every((line) => line.endsWith(`=${MASK}`))).toBe(true);
      const list = JSON.stringify(await (await get('/apps/myapp/releases', viewer)).json());
      expect(list).not.toContain('db-pa55w0rd');
      expect(list).not.toContain('production');
    });

    it('round-trip: a deployer re-posting the masked env changes only its key; the secrets stay real at the rack', async () => {
      const set = await postRelease(admin, `${SEED_ENV.myappSecond}\nSTRIPE_LIVE=sk_live_real`);
      expect(set.status).toBe(200);
      // The rack's answer carries env too: masked for the deployer, as any release is.
      const base = await latestRelease(deployer);
      expect(base.env).toContain(`STRIPE_LIVE=${MASK}`);

      const edited = base.env.replace('NODE_ENV=production', 'NODE_ENV=production').concat('\nWEB_CONCURRENCY=4');
      const response = await postRelease(deployer, edited);
      expect(response.status).toBe(200);
      expect(((await response.json()) as Release).env).toContain(`SECRET_KEY=${MASK}`);

      const stored = rackEnv();
      expect(stored).toContain('STRIPE_LIVE=sk_live_real');
      expect(stored).toContain('DATABASE_URL=postgres://myapp:db-pa55w0rd@db.internal:5432/myapp?sslmode=require&pool=5');
      expect(stored).toContain('WEB_CONCURRENCY=4');
      expect(stored).not.toContain(MASK);
    });

    it('are masked in app parameters and app configs too, except the CLI’s own env-mask list', async () => {
      const app = (await (await get('/apps/myapp', viewer)).json()) as { parameters: Record<string, string> };
      const raw = (await (await get('/apps/myapp', admin)).json()) as { parameters: Record<string, string> };
      const secretKeys = Object.keys(raw.parameters).filter((key) => /SECRET|TOKEN|PASSWORD|KEY/i.test(key));
      expect(secretKeys.length).toBeGreaterThan(0);
      for (const key of secretKeys) expect(app.parameters[key]).toBe(MASK);

      const configs = (await (await get('/apps/myapp/configs', viewer)).json()) as Array<{ name: string; value: string }>;
      for (const config of configs) expect(config.value === MASK || config.name === 'cli-env-mask').toBe(true);
    });

    it('refuses the placeholder for a key that has no value to keep', async () => {
      const response = await postRelease(deployer, `${(await latestRelease(deployer)).env}\nNEW_TOKEN=${MASK}`);
      expect(response.status).toBe(400);
      expect(await response.text()).toMatch(/NEW_TOKEN is set to the mask placeholder/);
    });

    it('keeps protected keys as they are, for admins too', async () => {
      const before = rackEnv();
      const response = await postRelease(admin, SEED_ENV.myappSecond.replace('NODE_ENV=production', 'NODE_ENV=development'));
      expect(response.status).toBe(403);
      expect(await response.text()).toBe('protected env keys cannot be changed through the gateway: NODE_ENV\n');
      expect(rackEnv()).toBe(before);
    });

    it('lets no one without env:update change env, even by creating a release', async () => {
      const ops = (await gateway.createUserWithToken('ops-env@example.com', 'ops')).token;
      const response = await postRelease(ops, 'NODE_ENV=production');
      expect(response.status).toBe(403);
    });
  });

  describe('tokens', () => {
    it('follow their owner: demoting the owner changes the very next request', async () => {
      const { token } = await gateway.createUserWithToken('demoted@example.com', 'deployer');
      const users = gateway.app.get(UsersService);
      const release = await latestRelease(token);
      const promote = () =>
        fetch(`${gateway.url}/apps/myapp/releases/${release.id}/promote`, { method: 'POST', headers: form(token), body: '' });
      expect((await promote()).status).toBe(200);
      await users.update('demoted@example.com', { role: 'viewer' });
      expect((await promote()).status).toBe(403);
      await users.update('demoted@example.com', { role: 'deployer', appScopes: ['otherapp'] });
      expect((await promote()).status).toBe(403);
    });

    it('can be narrowed below their owner, and never widened beyond', async () => {
      const create = (token: string, body: object) =>
        fetch(`${gateway.url}/api/v1/tokens`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });

      const narrowed = (await (await create(admin, { name: 'read-only', role: 'viewer', appScopes: ['otherapp'] })).json()) as {
        token: string;
      };
      expect((await get('/apps/otherapp/releases', narrowed.token)).status).toBe(200);
      expect((await get('/apps/myapp/releases', narrowed.token)).status).toBe(403);
      expect(
        (await fetch(`${gateway.url}/apps/otherapp`, { method: 'DELETE', headers: { authorization: basicAuth(narrowed.token) } })).status,
      ).toBe(403);
      expect((await get('/api/v1/users', narrowed.token)).status).toBe(403);

      const countTokens = async (token: string) => ((await (await get('/api/v1/tokens', token)).json()) as unknown[]).length;
      const before = await countTokens(deployer);
      for (const body of [
        { name: 'up', role: 'admin' },
        { name: 'deploy', role: 'deployer' },
      ]) {
        expect((await create(viewer, body)).status).toBe(403);
      }
      expect((await create(scoped, { name: 'wider', appScopes: ['otherapp'] })).status).toBe(403);
      expect((await create(narrowed.token, { name: 'escape', role: 'deployer' })).status).toBe(403);
      expect(await countTokens(deployer)).toBe(before);
    });
  });

  describe('the admin API', () => {
    it('lets neither a viewer nor a deployer manage users or read others’ tokens; nothing changes', async () => {
      const users = gateway.app.get(UsersService);
      const before = (await users.findAll()).map((user) => `${user.email}:${user.role}`);
      for (const token of [viewer, deployer]) {
        const call = (method: string, path: string, body?: object) =>
          fetch(`${gateway.url}${path}`, {
            method,
            headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
            body: body ? JSON.stringify(body) : undefined,
          });
        expect((await call('POST', '/api/v1/users', { email: 'new@example.com', role: 'admin' })).status).toBe(403);
        expect((await call('PATCH', '/api/v1/users/viewer@example.com', { role: 'admin' })).status).toBe(403);
        expect((await call('PATCH', '/api/v1/users/deployer@example.com', { role: 'admin' })).status).toBe(403);
        expect((await call('DELETE', '/api/v1/users/admin@example.com')).status).toBe(403);
        expect((await call('GET', '/api/v1/tokens?user=admin@example.com')).status).toBe(403);
      }
      expect((await users.findAll()).map((user) => `${user.email}:${user.role}`)).toEqual(before);
    });

    it('stops an admin from deleting or disabling themselves', async () => {
      const call = (method: string, body?: object) =>
        fetch(`${gateway.url}/api/v1/users/admin@example.com`, {
          method,
          headers: { authorization: `Bearer ${admin}`, ...(body ? { 'content-type': 'application/json' } : {}) },
          body: body ? JSON.stringify(body) : undefined,
        });
      expect((await call('DELETE')).status).toBe(403);
      expect((await call('PATCH', { disabled: true })).status).toBe(403);
      expect((await gateway.app.get(UsersService).getByEmail('admin@example.com')).disabled).toBe(false);
    });

    it('refuses an app-scoped admin', async () => {
      const response = await fetch(`${gateway.url}/api/v1/users`, {
        method: 'POST',
        headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
        body: JSON.stringify({ email: 'half-admin@example.com', role: 'admin', appScopes: ['myapp'] }),
      });
      expect(response.status).toBe(400);
    });

    it('describes roles and the caller’s own abilities from the route table', async () => {
      const roles = (await (await get('/api/v1/roles', viewer)).json()) as Array<{
        name: string;
        rackRoutes: string[];
        permissions: string[];
      }>;
      expect(roles.map((role) => role.name)).toEqual(['viewer', 'ops', 'deployer', 'cicd', 'admin']);
      const ops = roles.find((role) => role.name === 'ops');
      expect(ops?.rackRoutes).toContain('SOCKET /apps/{app}/processes/{pid}/exec');
      expect(roles.find((role) => role.name === 'viewer')?.rackRoutes).not.toContain('SOCKET /apps/{app}/processes/{pid}/exec');

      const mine = (await (await get('/api/v1/me/abilities', scoped)).json()) as {
        role: string;
        appScopes: string[];
        permissions: string[];
      };
      expect(mine).toMatchObject({ role: 'deployer', appScopes: ['myapp'] });
      expect(mine.permissions).toContain('releases:promote');
      expect(mine.permissions).not.toContain('secrets:read');
    });
  });
});

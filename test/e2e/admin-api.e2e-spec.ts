import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { MockRack, startMockRack } from '../support/mock-rack';
import { TestGateway, startTestGateway } from '../support/test-gateway';

describe('the admin API', () => {
  let rack: MockRack;
  let gateway: TestGateway;
  let admin: string;
  let viewer: string;

  beforeAll(async () => {
    rack = await startMockRack();
    gateway = await startTestGateway({ rackUrl: rack.url, rackToken: rack.password, env: { ADMIN_USERS: 'first.admin@example.com' } });
    ({ token: admin } = await gateway.createUserWithToken('admin@example.com', 'admin'));
    ({ token: viewer } = await gateway.createUserWithToken('viewer@example.com', 'viewer'));
  });

  afterAll(async () => {
    await gateway.close();
    await rack.close();
  });

  const call = (method: string, path: string, token?: string, body?: unknown) =>
    fetch(`${gateway.url}${path}`, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });

  async function expectProblem(response: Response, status: number, code?: string) {
    expect(response.status).toBe(status);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
    const problem = (await response.json()) as Record<string, unknown>;
    expect(problem).toMatchObject({ status, type: 'about:blank', title: expect.any(String), detail: expect.any(String) });
    if (code) expect(problem.code).toBe(code);
    return problem;
  }

  describe('users', () => {
    it('bootstraps ADMIN_USERS as admins at start', async () => {
      const users = (await (await call('GET', '/api/v1/users', admin)).json()) as Array<{ email: string; role: string }>;
      expect(users).toContainEqual(expect.objectContaining({ email: 'first.admin@example.com', role: 'admin' }));
    });

    it('needs a credential (401) and the admin role (403)', async () => {
      await expectProblem(await call('GET', '/api/v1/users'), 401, 'authentication_required');
      await expectProblem(await call('GET', '/api/v1/users', `rgw_${'C'.repeat(43)}`), 401, 'invalid_authentication');
      await expectProblem(await call('GET', '/api/v1/users', viewer), 403, 'permission_denied');
      await expectProblem(await call('POST', '/api/v1/users', viewer, { email: 'x@example.com', role: 'admin' }), 403);
      const users = (await (await call('GET', '/api/v1/users', admin)).json()) as Array<{ email: string }>;
      expect(users.map((user) => user.email)).not.toContain('x@example.com');
    });

    it('validates bodies: bad email, unknown role, unknown fields, wrong media type', async () => {
      const badEmail = await expectProblem(
        await call('POST', '/api/v1/users', admin, { email: 'nope', role: 'viewer' }),
        400,
        'validation_failed',
      );
      expect(badEmail.errors).toEqual(expect.arrayContaining([expect.stringContaining('email')]));
      await expectProblem(await call('POST', '/api/v1/users', admin, { email: 'a@example.com', role: 'root' }), 400);
      await expectProblem(await call('POST', '/api/v1/users', admin, { email: 'a@example.com', role: 'viewer', isAdmin: true }), 400);
      const form = await fetch(`${gateway.url}/api/v1/users`, {
        method: 'POST',
        headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/x-www-form-urlencoded' },
        body: 'email=a@example.com&role=viewer',
      });
      await expectProblem(form, 415);
      const malformed = await fetch(`${gateway.url}/api/v1/users`, {
        method: 'POST',
        headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
        body: '{"email": ',
      });
      await expectProblem(malformed, 400);
    });

    it('creates, updates, disables and deletes a user', async () => {
      const created = await call('POST', '/api/v1/users', admin, { email: 'New.Person@Example.com', role: 'viewer', name: 'New Person' });
      expect(created.status).toBe(201);
      expect(await created.json()).toMatchObject({ email: 'new.person@example.com', role: 'viewer', disabled: false });
      await expectProblem(
        await call('POST', '/api/v1/users', admin, { email: 'new.person@example.com', role: 'viewer' }),
        409,
        'user_exists',
      );

      const updated = await call('PATCH', '/api/v1/users/new.person@example.com', admin, { role: 'deployer', disabled: true });
      expect(await updated.json()).toMatchObject({ role: 'deployer', disabled: true });
      await expectProblem(await call('PATCH', '/api/v1/users/ghost@example.com', admin, { role: 'ops' }), 404, 'user_not_found');

      expect((await call('DELETE', '/api/v1/users/new.person@example.com', admin)).status).toBe(204);
      await expectProblem(await call('DELETE', '/api/v1/users/new.person@example.com', admin), 404);
    });
  });

  describe('tokens', () => {
    it('lists, creates (shown once) and revokes the caller’s own tokens, and no one else’s', async () => {
      const created = await call('POST', '/api/v1/tokens', viewer, { name: 'laptop', expiresAt: '2099-01-01T00:00:00Z' });
      expect(created.status).toBe(201);
      const { id, token } = (await created.json()) as { id: string; token: string };
      expect(token).toMatch(/^rgw_/);

      const listed = (await (await call('GET', '/api/v1/tokens', viewer)).json()) as Array<Record<string, unknown>>;
      const entry = listed.find((item) => item.id === id);
      expect(entry).toMatchObject({ name: 'laptop', expiresAt: '2099-01-01T00:00:00.000Z', displayPrefix: token.slice(0, 12) });
      expect(JSON.stringify(listed)).not.toContain(token);

      const adminsToken = (await (await call('POST', '/api/v1/tokens', admin, { name: 'admin-laptop' })).json()) as { id: string };
      await expectProblem(await call('DELETE', `/api/v1/tokens/${adminsToken.id}`, viewer), 403, 'permission_denied');
      expect((await call('DELETE', `/api/v1/tokens/${id}`, viewer)).status).toBe(204);
      await expectProblem(await call('GET', '/api/v1/me', token), 401);
      expect((await call('GET', '/api/v1/me', admin)).status).toBe(200);
    });

    it('answers another user’s token and a missing one alike, so ids reveal nothing to non-admins', async () => {
      const adminsToken = (await (await call('POST', '/api/v1/tokens', admin, { name: 'admin-ci' })).json()) as { id: string };
      const missing = '00000000-0000-4000-8000-000000000000';
      const others = await expectProblem(await call('DELETE', `/api/v1/tokens/${adminsToken.id}`, viewer), 403, 'permission_denied');
      const absent = await expectProblem(await call('DELETE', `/api/v1/tokens/${missing}`, viewer), 403, 'permission_denied');
      expect(others.detail).toBe(absent.detail);
      await expectProblem(await call('GET', '/api/v1/tokens?user=admin@example.com', viewer), 403, 'permission_denied');
      await expectProblem(await call('GET', '/api/v1/tokens?user=nobody@example.com', viewer), 403, 'permission_denied');
      // Admins hold the permission on every token, so they are told what is missing.
      await expectProblem(await call('DELETE', `/api/v1/tokens/${missing}`, admin), 404, 'token_not_found');
      await expectProblem(await call('GET', '/api/v1/tokens?user=nobody@example.com', admin), 404, 'user_not_found');
      const viewersTokens = (await (await call('GET', '/api/v1/tokens?user=VIEWER@example.com', admin)).json()) as unknown[];
      expect(viewersTokens.length).toBeGreaterThan(0);
      expect((await call('DELETE', `/api/v1/tokens/${adminsToken.id}`, admin)).status).toBe(204);
    });

    it('lets a cicd-scoped token neither list, mint nor revoke tokens, even its admin owner’s', async () => {
      const scoped = (await (await call('POST', '/api/v1/tokens', admin, { name: 'pipeline', role: 'cicd' })).json()) as {
        id: string;
        token: string;
      };
      await expectProblem(await call('GET', '/api/v1/tokens', scoped.token), 403, 'permission_denied');
      await expectProblem(await call('POST', '/api/v1/tokens', scoped.token, { name: 'escape' }), 403, 'permission_denied');
      await expectProblem(await call('DELETE', `/api/v1/tokens/${scoped.id}`, scoped.token), 403, 'permission_denied');
      expect((await call('GET', '/api/v1/me', scoped.token)).status).toBe(200);
    });

    it('records when a token was last used', async () => {
      const { id, token } = (await (await call('POST', '/api/v1/tokens', viewer, { name: 'ci' })).json()) as { id: string; token: string };
      const lastUsed = async () =>
        ((await (await call('GET', '/api/v1/tokens', viewer)).json()) as Array<{ id: string; lastUsedAt: string | null }>).find(
          (item) => item.id === id,
        )?.lastUsedAt;
      expect(await lastUsed()).toBeNull();
      const before = Date.now();
      expect((await fetch(`${gateway.url}/apps`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
      // The write is off the request path; give it a moment rather than a fixed sleep.
      let recorded: string | null | undefined = null;
      for (let attempt = 0; attempt < 50 && !recorded; attempt += 1) {
        recorded = await lastUsed();
        if (!recorded) await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(new Date(recorded ?? 0).getTime()).toBeGreaterThanOrEqual(before - 1000);
    });

    it('refuses bad token requests', async () => {
      await expectProblem(await call('POST', '/api/v1/tokens', viewer, {}), 400);
      await expectProblem(
        await call('POST', '/api/v1/tokens', viewer, { name: 'old', expiresAt: '2001-01-01T00:00:00Z' }),
        400,
        'token_expiry_past',
      );
      await expectProblem(await call('DELETE', '/api/v1/tokens/not-a-uuid', viewer), 400);
      await expectProblem(await call('GET', '/api/v1/tokens'), 401);
    });
  });

  describe('OpenAPI', () => {
    it('describes every gateway endpoint with its auth scheme, and none of the rack paths', async () => {
      const document = (await (await fetch(`${gateway.url}/api/docs/openapi.json`)).json()) as {
        paths: Record<string, Record<string, { security?: unknown[] }>>;
        components: { securitySchemes: Record<string, unknown> };
      };
      expect(Object.keys(document.components.securitySchemes).sort()).toEqual(['metrics-token', 'session', 'token', 'token-basic']);
      expect(Object.keys(document.paths).sort()).toEqual([
        '/api/v1/audit/events',
        '/api/v1/audit/export',
        '/api/v1/audit/verify',
        '/api/v1/auth/callback',
        '/api/v1/auth/csrf',
        '/api/v1/auth/login',
        '/api/v1/auth/logout',
        '/api/v1/deploy-approval-requests',
        '/api/v1/deploy-approval-requests/{id}',
        '/api/v1/deploy-approval-requests/{id}/approve',
        '/api/v1/deploy-approval-requests/{id}/extend',
        '/api/v1/deploy-approval-requests/{id}/reject',
        '/api/v1/deploy-approval-requests/{id}/wait',
        '/api/v1/health/live',
        '/api/v1/health/rack',
        '/api/v1/health/ready',
        '/api/v1/me',
        '/api/v1/me/abilities',
        '/api/v1/metrics',
        '/api/v1/mfa/backup-codes',
        '/api/v1/mfa/methods',
        '/api/v1/mfa/methods/{id}',
        '/api/v1/mfa/requirements',
        '/api/v1/mfa/totp',
        '/api/v1/mfa/totp/{id}/confirm',
        '/api/v1/mfa/verify',
        '/api/v1/mfa/webauthn/assertion-options',
        '/api/v1/mfa/webauthn/registration-options',
        '/api/v1/mfa/webauthn/registrations',
        '/api/v1/roles',
        '/api/v1/settings/read-only',
        '/api/v1/tokens',
        '/api/v1/tokens/{id}',
        '/api/v1/users',
        '/api/v1/users/{email}',
        '/api/v1/users/{email}/unlock',
      ]);
      // Every operation that is not public names the credentials it takes, from @Authorize alone; the
      // metrics take none of a person's, only METRICS_TOKEN when it is set.
      const publicOperations = [
        'get /api/v1/auth/callback',
        'get /api/v1/auth/login',
        'get /api/v1/health/live',
        'get /api/v1/health/rack',
        'get /api/v1/health/ready',
        'get /api/v1/mfa/requirements',
      ];
      for (const [path, operations] of Object.entries(document.paths)) {
        for (const [method, operation] of Object.entries(operations)) {
          const security = publicOperations.includes(`${method} ${path}`)
            ? undefined
            : `${method} ${path}` === 'get /api/v1/metrics'
              ? [{ 'metrics-token': [] }]
              : [{ session: [] }, { token: [] }, { 'token-basic': [] }];
          expect({ operation: `${method} ${path}`, security: operation.security }).toEqual({ operation: `${method} ${path}`, security });
        }
      }
      // The committed document is the reviewed one: regenerate it with `npm run openapi:generate`.
      const committed = JSON.parse(readFileSync(resolve(__dirname, '../../openapi.json'), 'utf8')) as unknown;
      expect(document).toEqual(committed);

      const console = await fetch(`${gateway.url}/api/docs`);
      expect(console.status).toBe(200);
      expect(await console.text()).toContain('swagger');
    });
  });
});

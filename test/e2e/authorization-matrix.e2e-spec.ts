import { RACK_ROUTES, type RackRoute } from '../../src/rbac/rack-route-table';
import { describeRoles } from '../../src/rbac/role-catalogue';
import { APP_SUBJECTS } from '../../src/rbac/permissions';
import type { Role } from '../../src/rbac/roles';
import { UsersService } from '../../src/users/users.service';
import { MockRack, startMockRack } from '../support/mock-rack';
import { rawRequest } from '../support/raw-request';
import { TestGateway, basicAuth, startTestGateway } from '../support/test-gateway';
import { RackSocket } from '../support/websocket-client';

interface Caller {
  readonly label: string;
  readonly role: Role;
  readonly appScopes: string[] | null;
  /** The app the requests of this pass target. */
  readonly app: string;
}

const CALLERS: Caller[] = [
  ...(['viewer', 'ops', 'deployer', 'cicd', 'admin'] as const).map((role) => ({ label: role, role, appScopes: null, app: 'myapp' })),
  { label: 'deployer scoped to myapp, on myapp', role: 'deployer', appScopes: ['myapp'], app: 'myapp' },
  { label: 'deployer scoped to myapp, on otherapp', role: 'deployer', appScopes: ['myapp'], app: 'otherapp' },
];

const allowedRoutes = new Map(describeRoles().map((role) => [role.name, new Set(role.rackRoutes)]));

/** What the table says: the role grants the route, and a scope admits the app (app subjects only). */
function verdict(caller: Caller, route: RackRoute): boolean {
  if (!allowedRoutes.get(caller.role)?.has(`${route.method} ${route.path}`)) return false;
  if (caller.appScopes === null || route.lists || !APP_SUBJECTS.has(route.subject)) return true;
  const namesApp = /\{(app|name)\}/.test(route.path) && (route.path.includes('{app}') || route.path.startsWith('/apps/{name}'));
  return namesApp && caller.appScopes.includes(caller.app);
}

function samplePath(pattern: string, app: string): string {
  return pattern
    .replace('{key:.*}', 'tmp/0123456789abcdef.tgz')
    .replace('{server:.*}', 'registry.example.com')
    .replace('{path:.*}', 'some/deep/path')
    .replace('/apps/{name}', `/apps/${app}`)
    .replace('{app}', app)
    .replace(/\{\w+\}/g, 'X1');
}

function requestMethod(route: RackRoute): string {
  if (route.method !== 'ANY') return route.method;
  return route.path.startsWith('/v2/') ? 'POST' : 'GET';
}

describe('the authorization matrix: every rack route for every role', () => {
  let rack: MockRack;
  let gateway: TestGateway;
  const tokens = new Map<string, string>();

  beforeAll(async () => {
    rack = await startMockRack({ promoteMs: 0, logIntervalMs: 50 });
    gateway = await startTestGateway({ rackUrl: rack.url, rackToken: rack.password });
    const users = gateway.app.get(UsersService);
    for (const [index, caller] of CALLERS.entries()) {
      const { user, token } = await gateway.createUserWithToken(`caller${index}@example.com`, caller.role);
      if (caller.appScopes) await users.update(user.email, { appScopes: caller.appScopes });
      tokens.set(caller.label, token);
    }
  });

  afterAll(async () => {
    await gateway.close();
    await rack.close();
  });

  async function attempt(route: RackRoute, caller: Caller): Promise<{ reachedRack: boolean; refusal: string }> {
    const path = samplePath(route.path, caller.app);
    const authorization = basicAuth(tokens.get(caller.label) ?? '');
    rack.clearRequests();
    let refusal = '';
    if (route.method === 'SOCKET') {
      // The rack answers routes it does not serve (legacy v2 ones) with a plain 404 handshake.
      const socket = await RackSocket.open(`${gateway.url}${path}`, { authorization, command: 'echo hi', follow: 'false' }).catch(
        () => undefined,
      );
      if (socket) {
        await socket.untilEnd(2_000).catch(() => undefined);
        refusal = socket.output().toString('latin1');
        socket.close();
      }
    } else {
      const method = requestMethod(route);
      const withBody = !['GET', 'HEAD', 'OPTIONS', 'DELETE'].includes(method);
      const response = await rawRequest(`${gateway.url}${path}`, {
        method,
        headers: { authorization, 'content-type': 'application/x-www-form-urlencoded' },
        body: withBody ? 'description=matrix' : undefined,
      });
      // A HEAD answer has no body to carry the reason; its 403 says it all.
      if (response.status === 403 && rack.requests().length === 0)
        refusal = method === 'HEAD' ? 'permission denied' : response.body.toString('utf8');
    }
    return { reachedRack: rack.requests().length > 0, refusal };
  }

  for (const caller of CALLERS) {
    it(`decides every route for the ${caller.label} as the table says, and denied requests never reach the rack`, async () => {
      rack.reset();
      const mismatches: string[] = [];
      for (const route of RACK_ROUTES) {
        const expected = verdict(caller, route);
        const { reachedRack, refusal } = await attempt(route, caller);
        // CI tokens' deploy routes are refused by the deploy-approvals stage: without an approval, or as no step of one.
        const refusedWell =
          refusal.includes('permission denied') || refusal.includes('invalid app name') || refusal.includes('deploy approval required');
        if (expected !== reachedRack || (!expected && !refusedWell)) {
          mismatches.push(
            `${route.method} ${route.path}: expected ${expected ? 'allowed' : 'denied'}, ${reachedRack ? 'reached the rack' : `refused (${refusal.trim()})`}`,
          );
        }
      }
      expect(mismatches).toEqual([]);
    }, 120_000);
  }
});

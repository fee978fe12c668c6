import type { Action, RackSubject } from './permissions';

/** How a rack answer is rewritten for callers who may not see all of it; the secrets module provides each. */
export type AnswerFilter = 'app-list' | 'apps' | 'releases' | 'builds' | 'registries' | 'resources' | 'configs' | 'secret-fields';

/** How a request body is rewritten before the rack reads it; the secrets module provides each. */
export type RequestRewrite = 'release-env';

/**
 * The step of an approved deploy a route takes (the deploy-approvals stage admits each): a token that
 * may call a route only under an approval calls routes without a step not at all.
 */
export type DeployStep = 'upload' | 'build' | 'promote' | 'run' | 'exec';

/** Which per-caller rate limit a route counts against (the rate-limit module's buckets). */
export type RateClass = 'read' | 'write' | 'stream' | 'upload';

export type RackMethod = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'OPTIONS' | 'SOCKET' | 'ANY';

export interface RackRoute {
  readonly method: RackMethod;
  /** The rack's own route pattern: `{var}` is one path segment, `{var:.*}` the rest of the path. */
  readonly path: string;
  readonly action: Action;
  readonly subject: RackSubject;
  /** Checked against the caller's ability for any instance, then filtered item by item (GET /apps). */
  readonly lists?: boolean;
  /** The behaviours of the route, by name; the module that owns each provides its handler (RackBehaviours). */
  readonly answerFilter?: AnswerFilter;
  /** `release-env`: the body carries the whole environment; masked values are restored, protected keys kept. */
  readonly requestRewrite?: RequestRewrite;
  /** Websockets are streams, GET/HEAD/OPTIONS reads, everything else writes, unless the row names an upload. */
  readonly rateClass: RateClass;
  readonly deployStep?: DeployStep;
  /**
   * The route creates builds or releases and answers with what it created: the proxy reads their ids
   * for the audit trail, so reconciliation can tell them from ones made with the rack's credential.
   */
  readonly creates?: 'builds' | 'releases';
}

type RouteBehaviours = Partial<Pick<RackRoute, 'lists' | 'answerFilter' | 'requestRewrite' | 'rateClass' | 'deployStep' | 'creates'>>;
type Row = [RackMethod, string, Action, RackSubject, RouteBehaviours?];

/**
 * Every route of the Convox rack API (convox-api.md §1, the legacy v2 routes the CLI still calls, and
 * its probes) and what it takes. A request matching no row is refused: the table fails closed. The
 * proxy, `GET /api/v1/roles` and the OpenAPI description all read this one table.
 */
const ROWS: Row[] = [
  // Probes and the rack itself.
  ['ANY', '/check', 'read', 'rack'],
  ['GET', '/auth', 'read', 'rack'],
  ['GET', '/racks', 'read', 'rack'],
  ['GET', '/machines', 'read', 'rack'],
  ['GET', '/system', 'read', 'rack'],
  ['PUT', '/system', 'update', 'rack'],
  ['GET', '/system/capacity', 'read', 'rack'],
  ['GET', '/system/metrics', 'read', 'rack'],
  ['GET', '/system/processes', 'read', 'rack'],
  ['GET', '/system/releases', 'read', 'rack', { answerFilter: 'releases' }],
  ['SOCKET', '/system/logs', 'read', 'logs'],
  // Minting a rack JWT hands out rack access outside the gateway: admins only, like rotating its key.
  ['POST', '/system/jwt/token', 'manage', 'rack', { answerFilter: 'secret-fields' }],
  ['PUT', '/system/jwt/rotate', 'manage', 'rack'],
  ['POST', '/system/karpenter/cleanup', 'update', 'rack'],
  ['POST', '/events', 'update', 'rack'],
  ['SOCKET', '/proxy/{host}/{port}', 'proxy', 'rack'],
  ['ANY', '/custom/http/proxy/{path:.*}', 'proxy', 'rack'],

  // Apps.
  ['GET', '/apps', 'read', 'apps', { lists: true, answerFilter: 'app-list' }],
  ['POST', '/apps', 'create', 'apps', { answerFilter: 'apps' }],
  ['GET', '/apps/{name}', 'read', 'apps', { answerFilter: 'apps' }],
  ['PUT', '/apps/{name}', 'update', 'apps'],
  ['DELETE', '/apps/{name}', 'delete', 'apps'],
  ['POST', '/apps/{name}/cancel', 'update', 'apps'],
  ['GET', '/apps/{app}/diagnose', 'read', 'apps'],
  ['GET', '/apps/{app}/manifest/services/{service}', 'read', 'apps'],
  ['GET', '/apps/{name}/metrics', 'read', 'apps'],
  ['GET', '/apps/{app}/metrics-by-service', 'read', 'apps'],
  ['GET', '/apps/{app}/configs', 'read', 'apps', { answerFilter: 'configs' }],
  ['GET', '/apps/{app}/configs/{name}', 'read', 'apps', { answerFilter: 'configs' }],
  ['PUT', '/apps/{app}/configs/{name}', 'update', 'apps'],
  ['GET', '/apps/{app}/balancers', 'read', 'apps'],
  ['GET', '/apps/{app}/budget', 'read', 'apps'],
  ['POST', '/apps/{app}/budget', 'update', 'apps'],
  ['DELETE', '/apps/{app}/budget', 'update', 'apps'],
  ['POST', '/apps/{app}/budget/reset', 'update', 'apps'],
  ['GET', '/apps/{app}/budget/shutdown-state', 'read', 'apps'],
  ['POST', '/apps/{app}/budget/simulate-shutdown', 'update', 'apps'],
  ['POST', '/apps/{app}/budget/dismiss-recovery', 'update', 'apps'],
  ['GET', '/apps/{app}/cost', 'read', 'apps'],
  ['SOCKET', '/apps/{name}/logs', 'read', 'logs'],
  ['PUT', '/apps/{app}/ssl/{service}/{port}', 'update', 'apps'],

  // Builds and the objects they are built from.
  ['GET', '/apps/{app}/builds', 'read', 'builds', { answerFilter: 'builds' }],
  ['POST', '/apps/{app}/builds', 'create', 'builds', { answerFilter: 'builds', deployStep: 'build', creates: 'builds' }],
  ['GET', '/apps/{app}/builds/{id}.tgz', 'read', 'builds'],
  ['GET', '/apps/{app}/builds/{id}', 'read', 'builds', { answerFilter: 'builds' }],
  ['POST', '/apps/{app}/builds/import', 'create', 'builds', { rateClass: 'upload', creates: 'builds' }],
  ['POST', '/apps/{app}/builds/{id}/image', 'create', 'builds'],
  ['PUT', '/apps/{app}/builds/{id}', 'update', 'builds', { answerFilter: 'builds' }],
  ['SOCKET', '/apps/{app}/builds/{id}/logs', 'read', 'logs'],
  ['GET', '/apps/{app}/objects', 'read', 'objects'],
  ['GET', '/apps/{app}/objects/{key:.*}', 'read', 'objects'],
  ['HEAD', '/apps/{app}/objects/{key:.*}', 'read', 'objects'],
  ['POST', '/apps/{app}/objects/{key:.*}', 'create', 'objects', { rateClass: 'upload', deployStep: 'upload' }],
  ['DELETE', '/apps/{app}/objects/{key:.*}', 'delete', 'objects'],
  // Docker pushes of --external builds go through the rack's registry proxy.
  ['GET', '/v2/{path:.*}', 'read', 'builds'],
  ['HEAD', '/v2/{path:.*}', 'read', 'builds'],
  ['ANY', '/v2/{path:.*}', 'create', 'builds', { rateClass: 'upload' }],

  // Releases: the environment lives in them.
  ['GET', '/apps/{app}/releases', 'read', 'releases', { answerFilter: 'releases' }],
  ['POST', '/apps/{app}/releases', 'create', 'releases', { answerFilter: 'releases', requestRewrite: 'release-env', creates: 'releases' }],
  ['GET', '/apps/{app}/releases/{id}', 'read', 'releases', { answerFilter: 'releases' }],
  ['POST', '/apps/{app}/releases/{id}/promote', 'promote', 'releases', { deployStep: 'promote' }],

  // Processes, exec, files, services.
  ['GET', '/apps/{app}/processes', 'read', 'processes'],
  ['GET', '/apps/{app}/processes/{pid}', 'read', 'processes'],
  ['DELETE', '/apps/{app}/processes/{pid}', 'stop', 'processes'],
  ['SOCKET', '/apps/{app}/processes/{pid}/exec', 'create', 'exec', { deployStep: 'exec' }],
  ['SOCKET', '/apps/{app}/processes/{pid}/logs', 'read', 'logs'],
  // convox cp reads and writes any file in a process: as powerful as exec.
  ['GET', '/apps/{app}/processes/{pid}/files', 'create', 'exec'],
  ['POST', '/apps/{app}/processes/{pid}/files', 'create', 'exec', { rateClass: 'upload' }],
  ['DELETE', '/apps/{app}/processes/{pid}/files', 'create', 'exec'],
  ['POST', '/apps/{app}/services/{service}/processes', 'run', 'processes', { deployStep: 'run' }],
  ['GET', '/apps/{app}/services', 'read', 'apps'],
  ['PUT', '/apps/{app}/services/{name}', 'scale', 'apps'],
  ['POST', '/apps/{app}/services/{name}/restart', 'restart', 'apps'],
  ['SOCKET', '/apps/{app}/services/{service}/logs', 'read', 'logs'],
  ['GET', '/apps/{app}/services/{service}/metrics', 'read', 'apps'],
  ['POST', '/apps/{app}/services/{service}/scale-override', 'scale', 'apps'],
  ['POST', '/apps/{app}/services/{service}/triggers/enable', 'scale', 'apps'],
  ['POST', '/apps/{app}/services/{service}/triggers/disable', 'scale', 'apps'],
  ['POST', '/apps/{app}/services/{service}/triggers/threshold', 'scale', 'apps'],

  // Resources: their URLs and data hold credentials.
  ['GET', '/apps/{app}/resources', 'read', 'resources', { answerFilter: 'resources' }],
  ['GET', '/apps/{app}/resources/{name}', 'read', 'resources', { answerFilter: 'resources' }],
  ['SOCKET', '/apps/{app}/resources/{name}/console', 'access', 'resources'],
  ['GET', '/apps/{app}/resources/{name}/data', 'access', 'resources'],
  ['PUT', '/apps/{app}/resources/{name}/data', 'access', 'resources', { rateClass: 'upload' }],
  ['GET', '/resources', 'read', 'resources', { answerFilter: 'resources' }],
  ['OPTIONS', '/resources', 'read', 'resources'],
  ['POST', '/resources', 'create', 'resources', { answerFilter: 'resources' }],
  ['GET', '/resources/{name}', 'read', 'resources', { answerFilter: 'resources' }],
  ['PUT', '/resources/{name}', 'update', 'resources', { answerFilter: 'resources' }],
  ['DELETE', '/resources/{name}', 'delete', 'resources'],
  ['POST', '/resources/{name}/links', 'update', 'resources', { answerFilter: 'resources' }],
  ['DELETE', '/resources/{name}/links/{app}', 'update', 'resources', { answerFilter: 'resources' }],

  // Certificates, registries, instances.
  ['GET', '/certificates', 'read', 'certificates'],
  ['POST', '/certificates', 'create', 'certificates'],
  ['POST', '/certificates/generate', 'create', 'certificates'],
  ['POST', '/certificates/{id}/renew', 'update', 'certificates'],
  ['DELETE', '/certificates/{id}', 'delete', 'certificates'],
  ['GET', '/letsencrypt/config', 'read', 'certificates'],
  ['PUT', '/letsencrypt/config', 'update', 'certificates'],
  ['GET', '/registries', 'read', 'registries', { answerFilter: 'registries' }],
  ['POST', '/registries', 'create', 'registries', { answerFilter: 'registries' }],
  ['DELETE', '/registries/{server:.*}', 'delete', 'registries'],
  ['DELETE', '/registries', 'delete', 'registries'],
  ['GET', '/instances', 'read', 'instances'],
  ['POST', '/instances/keyroll', 'update', 'instances', { answerFilter: 'secret-fields' }],
  ['DELETE', '/instances/{id}', 'delete', 'instances'],
  ['SOCKET', '/instances/{id}/shell', 'shell', 'instances'],

  // Legacy v2 routes the same CLI calls against old racks (sdk/compat.go). Not the v2 env routes
  // (`POST /apps/{app}/environment`, `DELETE /apps/{app}/environment/{key}`): a v3 rack has none, the
  // CLI calls them only when /system reports a 2018 version, and their raw bodies would bypass the
  // release env policy (masking, protected keys). They are refused like any unknown route.
  ['GET', '/apps/{app}/parameters', 'read', 'apps'],
  ['POST', '/apps/{app}/parameters', 'update', 'apps'],
  ['GET', '/apps/{app}/formation', 'read', 'apps'],
  ['POST', '/apps/{app}/formation/{service}', 'scale', 'apps'],
  ['GET', '/apps/{app}/ssl', 'read', 'apps'],
  ['SOCKET', '/instances/{id}/ssh', 'shell', 'instances'],
  ['SOCKET', '/apps/{app}/processes/{service}/run', 'run', 'processes'],
  ['POST', '/apps/{app}/processes/{service}/run', 'run', 'processes'],
];

export const RACK_ROUTES: readonly RackRoute[] = ROWS.map(([method, path, action, subject, options]) => ({
  method,
  path,
  action,
  subject,
  rateClass: defaultRateClass(method),
  ...options,
}));

function defaultRateClass(method: RackMethod): RateClass {
  if (method === 'SOCKET') return 'stream';
  return method === 'GET' || method === 'HEAD' || method === 'OPTIONS' ? 'read' : 'write';
}

interface CompiledRoute {
  readonly route: RackRoute;
  readonly pattern: RegExp;
  /** Index of the capture group holding the app name, if the route names one. */
  readonly appGroup: number | undefined;
}

function compile(route: RackRoute): CompiledRoute {
  let appGroup: number | undefined;
  let group = 0;
  const source = route.path.replace(/\{(\w+)(:\.\*)?\}|[.+?^$()|[\]\\]/g, (token, name: string | undefined, rest: string | undefined) => {
    if (!name) return `\\${token}`;
    group += 1;
    if (name === 'app' || (name === 'name' && route.path.startsWith('/apps/{name}'))) appGroup = group;
    return rest ? '(.*)' : '([^/]+)';
  });
  return { route, pattern: new RegExp(`^${source}$`), appGroup };
}

const COMPILED = RACK_ROUTES.map(compile);

export interface MatchedRackRoute {
  readonly route: RackRoute;
  /** The app the request touches; undefined for rack-level routes. */
  readonly app: string | undefined;
}

/**
 * Finds the route a request is for. `SOCKET` is a GET carrying `Upgrade: websocket`; `ANY` rows match
 * every method. The first matching row wins, so specific rows precede general ones.
 */
export function matchRackRoute(method: string, path: string): MatchedRackRoute | undefined {
  for (const { route, pattern, appGroup } of COMPILED) {
    if (route.method !== method && route.method !== 'ANY') continue;
    const match = pattern.exec(path);
    if (match) return { route, app: appGroup === undefined ? undefined : match[appGroup] };
  }
  return undefined;
}

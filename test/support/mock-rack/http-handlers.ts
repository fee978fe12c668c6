import { posix } from 'node:path';

import type { HttpRouteContext } from './route-context';
import type { ServiceUpdateRequest } from './rack-state';
import {
  badRequest,
  decodeEncodedMap,
  formatGoTime,
  parseGoBool,
  parseGoInt,
  RackError,
  sniffContentType,
  writeBody,
  writeEmpty,
  writeJson,
  writeOk,
  writeText,
} from './rack-wire';
import { tarArchive } from './tar-archive';

/**
 * The rack's plain HTTP controllers (pkg/api/controllers.go), each reading its options the way stdapi does:
 * `param:` from the form, `query:` from the URL, `header:` from headers, presence-sensitive.
 */

type Handler = (context: HttpRouteContext) => void | Promise<void>;

const optionalBool = (value: string | undefined): boolean | undefined => (value === undefined ? undefined : parseGoBool(value));
const optionalInt = (value: string | undefined): number | undefined => (value === undefined ? undefined : parseGoInt(value));
const listLimit = (context: HttpRouteContext): number => optionalInt(context.query.get('limit') ?? undefined) ?? 10;

/** pkg/api sanitizeObjectKey: path-clean the key, and refuse any `..` segment outright. */
export function sanitizeObjectKey(key: string): string {
  const cleaned = posix.normalize(`/${key}`).replace(/^\/+/, '').replace(/\/+$/, '');
  if (cleaned === '' || cleaned === '.' || cleaned.trim() === '' || key.split('/').includes('..')) throw badRequest('invalid object key');
  return cleaned;
}

/** stdsdk's time layout `20060102.150405.000000000`, as sent by `PUT /apps/{app}/builds/{id}`. */
function parseSdkTime(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const parts = /^(\d{4})(\d{2})(\d{2})\.(\d{2})(\d{2})(\d{2})\.\d{9}$/.exec(value);
  if (!parts) throw new RackError(500, `parsing time ${JSON.stringify(value)} as "20060102.150405.000000000": cannot parse`);
  const [, year, month, day, hour, minute, second] = parts.map(Number);
  return formatGoTime(new Date(Date.UTC(year, month - 1, day, hour, minute, second)));
}

// --- system ---

export const getAuth: Handler = ({ response }) => writeOk(response);

export const getSystem: Handler = ({ runtime, response }) => writeJson(response, runtime.state.getSystem());

export const updateSystem: Handler = () => {
  throw new RackError(501, "direct rack doesn't support update, make sure you are not using RACK_URL environment variable");
};

export const listSystemProcesses: Handler = ({ runtime, query, response }) =>
  writeJson(response, runtime.state.listSystemProcesses(optionalBool(query.get('all') ?? undefined) ?? false));

export const listSystemReleases: Handler = ({ runtime, response }) => writeJson(response, runtime.state.listSystemReleases());

/** The CLI sends a `generated` form body on this GET; the rack ignores it. No certificates are seeded. */
export const listCertificates: Handler = ({ response }) => writeJson(response, []);

export const sendEvent: Handler = ({ response }) => writeOk(response);

// --- apps ---

export const listApps: Handler = ({ runtime, response }) => writeJson(response, runtime.state.listApps());

export const createApp: Handler = ({ runtime, form, response }) => {
  const name = form('name') ?? '';
  if (!/^[a-z][a-z0-9-]*$/.test(name)) throw badRequest(`invalid app name: ${name}`);
  writeJson(response, runtime.state.createApp(name, form('generation') ?? '2'));
};

export const getApp: Handler = ({ runtime, vars, response }) => writeJson(response, runtime.state.getApp(vars.name));

export const updateApp: Handler = ({ runtime, vars, form, response }) => {
  const parameters = form('parameters');
  runtime.state.updateApp(vars.name, {
    lock: optionalBool(form('lock')),
    parameters: parameters === undefined ? undefined : decodeEncodedMap(parameters),
  });
  writeOk(response);
};

export const deleteApp: Handler = ({ runtime, vars, response }) => {
  runtime.state.deleteApp(vars.name);
  writeOk(response);
};

export const cancelApp: Handler = ({ runtime, vars, response }) => {
  runtime.state.getApp(vars.name);
  writeOk(response);
};

export const listAppConfigs: Handler = ({ runtime, vars, response }) => writeJson(response, runtime.state.listConfigs(vars.app));

export const getAppConfig: Handler = ({ runtime, vars, response }) => writeJson(response, runtime.state.getConfig(vars.app, vars.name));

export const setAppConfig: Handler = ({ runtime, vars, form, response }) => {
  runtime.state.setConfig(vars.app, vars.name, form('value') ?? '');
  writeOk(response);
};

// --- objects ---

/** The body was already streamed through the journal's hash; only small bodies kept their bytes. */
export const storeObject: Handler = ({ runtime, vars, body, header, response }) => {
  const key = vars.key === '' ? '' : sanitizeObjectKey(vars.key);
  const isPublic = optionalBool(header('public')) ?? false;
  writeJson(
    response,
    runtime.state.storeObject(vars.app, key, { size: body.size, sha256: body.sha256, bytes: body.bytes, public: isPublic }),
  );
};

export const fetchObject: Handler = ({ runtime, vars, response }) => {
  const object = runtime.state.getObject(vars.app, sanitizeObjectKey(vars.key));
  if (!object.bytes)
    throw new RackError(500, `mock rack keeps only objects under 1 MiB: ${object.key} is ${object.size} bytes (sha256 ${object.sha256})`);
  response.setHeader('Content-Type', sniffContentType(object.bytes));
  writeBody(response, 200, object.bytes);
};

/** The rack answers 200 with a JSON boolean whether or not the object exists (a known quirk). */
export const objectExists: Handler = ({ runtime, vars, response }) =>
  writeJson(response, runtime.state.objectExists(vars.app, sanitizeObjectKey(vars.key)));

export const deleteObject: Handler = ({ runtime, vars, response }) => {
  runtime.state.deleteObject(vars.app, sanitizeObjectKey(vars.key));
  writeOk(response);
};

// --- builds ---

export const createBuild: Handler = ({ runtime, vars, form, response }) => {
  const url = form('url');
  if (!url) throw badRequest('url required');
  writeJson(
    response,
    runtime.state.createBuild(vars.app, {
      url,
      description: form('description'),
      gitSha: form('git-sha'),
      external: optionalBool(form('external')) ?? false,
    }),
  );
};

export const listBuilds: Handler = (context) =>
  writeJson(context.response, context.runtime.state.listBuilds(context.vars.app, listLimit(context)));

export const getBuild: Handler = ({ runtime, vars, response }) => writeJson(response, runtime.state.getBuild(vars.app, vars.id));

export const exportBuild: Handler = ({ runtime, vars, response }) => {
  const archive = runtime.state.exportBuild(vars.app, vars.id);
  response.setHeader('Content-Type', sniffContentType(archive));
  writeBody(response, 200, archive);
};

export const importBuild: Handler = ({ runtime, vars, response }) => writeJson(response, runtime.state.importBuild(vars.app));

export const updateBuild: Handler = ({ runtime, vars, form, response }) =>
  writeJson(
    response,
    runtime.state.updateBuild(vars.app, vars.id, {
      started: parseSdkTime(form('started')),
      ended: parseSdkTime(form('ended')),
      entrypoint: form('entrypoint'),
      logs: form('logs'),
      manifest: form('manifest'),
      release: form('release'),
      status: form('status'),
    }),
  );

export const importBuildImage: Handler = ({ runtime, vars, response }) => {
  runtime.state.getBuild(vars.app, vars.id);
  writeEmpty(response, 202);
};

// --- releases ---

export const listReleases: Handler = (context) =>
  writeJson(context.response, context.runtime.state.listReleases(context.vars.app, listLimit(context)));

export const getRelease: Handler = ({ runtime, vars, response }) => writeJson(response, runtime.state.getRelease(vars.app, vars.id));

export const createRelease: Handler = ({ runtime, vars, form, response }) =>
  writeJson(
    response,
    runtime.state.createRelease(vars.app, {
      build: form('build'),
      description: form('description'),
      env: form('env'),
      parentRelease: form('parent-release'),
    }),
  );

/** Promotion can take minutes on a real rack; `promoteMs` holds the request open to exercise that. */
export const promoteRelease: Handler = async ({ runtime, vars, signal, response }) => {
  runtime.state.beginPromote(vars.app, vars.id);
  if (runtime.promoteMs > 0 && !(await runtime.timers.sleep(runtime.promoteMs, signal))) return;
  runtime.state.finishPromote(vars.app, vars.id);
  writeOk(response);
};

// --- processes and files ---

export const listProcesses: Handler = ({ runtime, vars, query, response }) =>
  writeJson(
    response,
    runtime.state.listProcesses(vars.app, { service: query.get('service') ?? undefined, release: query.get('release') ?? undefined }),
  );

export const getProcess: Handler = ({ runtime, vars, response }) => writeJson(response, runtime.state.getProcess(vars.app, vars.pid));

export const stopProcess: Handler = ({ runtime, vars, response }) => {
  runtime.state.stopProcess(vars.app, vars.pid);
  writeOk(response);
};

/** `convox run` sends every option as a header, Environment as one url-encoded map. */
export const runProcess: Handler = ({ runtime, vars, header, response }) => {
  const environment = header('environment');
  writeJson(
    response,
    runtime.state.runProcess(vars.app, vars.service, {
      command: header('command'),
      environment: environment === undefined ? {} : decodeEncodedMap(environment),
      release: header('release'),
    }),
  );
};

export const downloadFiles: Handler = ({ runtime, vars, query, response }) => {
  const process = runtime.state.getProcess(vars.app, vars.pid);
  const file = query.get('file') ?? '';
  if (file === '') throw badRequest('file required');
  const archive = tarArchive([{ name: file.replace(/^\/+/, ''), content: Buffer.from(`mock contents of ${file} in ${process.id}\n`) }]);
  response.setHeader('Content-Type', sniffContentType(archive));
  writeBody(response, 200, archive);
};

export const uploadFiles: Handler = ({ runtime, vars, response }) => {
  runtime.state.getProcess(vars.app, vars.pid);
  writeOk(response);
};

export const deleteFiles: Handler = uploadFiles;

// --- services ---

export const listServices: Handler = ({ runtime, vars, response }) => writeJson(response, runtime.state.listServices(vars.app));

export const updateService: Handler = ({ runtime, vars, form, response }) => {
  const update: ServiceUpdateRequest = {
    count: optionalInt(form('count')),
    cpu: optionalInt(form('cpu')),
    memory: optionalInt(form('memory')),
    min: optionalInt(form('min')),
    max: optionalInt(form('max')),
  };
  runtime.state.updateService(vars.app, vars.name, update);
  writeOk(response);
};

export const restartService: Handler = ({ runtime, vars, response }) => {
  runtime.state.restartService(vars.app, vars.name);
  writeOk(response);
};

// --- resources ---

export const listAppResources: Handler = ({ runtime, vars, response }) => writeJson(response, runtime.state.listAppResources(vars.app));

export const getAppResource: Handler = ({ runtime, vars, response }) =>
  writeJson(response, runtime.state.getAppResource(vars.app, vars.name));

export const exportResourceData: Handler = ({ runtime, vars, response }) => {
  const resource = runtime.state.getAppResource(vars.app, vars.name);
  writeText(response, 200, `-- mock ${resource.type} dump of ${vars.app}/${resource.name}\nSELECT 1;\n`);
};

export const importResourceData: Handler = ({ runtime, vars, response }) => {
  runtime.state.getAppResource(vars.app, vars.name);
  writeOk(response);
};

export const listRackResources: Handler = ({ runtime, response }) => writeJson(response, runtime.state.listRackResources());

export const getRackResource: Handler = ({ runtime, vars, response }) => writeJson(response, runtime.state.getRackResource(vars.name));

// --- registries and instances ---

export const listRegistries: Handler = ({ runtime, response }) => writeJson(response, runtime.state.listRegistries());

export const addRegistry: Handler = ({ runtime, form, response }) => {
  const server = form('server');
  if (!server) throw badRequest('server required');
  writeJson(response, runtime.state.addRegistry({ server, username: form('username') ?? '', password: form('password') ?? '' }));
};

export const removeRegistry: Handler = ({ runtime, vars, response }) => {
  runtime.state.removeRegistry(vars.server);
  writeOk(response);
};

export const listInstances: Handler = ({ runtime, response }) => writeJson(response, runtime.state.listInstances());

export const keyrollInstances: Handler = ({ runtime, response }) => writeJson(response, runtime.state.keyroll());

export const terminateInstance: Handler = ({ runtime, vars, response }) => {
  runtime.state.terminateInstance(vars.id);
  writeOk(response);
};

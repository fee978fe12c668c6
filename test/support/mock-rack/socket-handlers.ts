import { isIP } from 'node:net';

import { runExecScript, type ExecSession } from './exec-script';
import { processLogSource, readLogOptions, streamLogs } from './log-stream';
import type { SocketRouteContext } from './route-context';
import type { RackSocket } from './rack-socket';
import { badRequest, EXIT_MARKER_PREFIX, notFound, parseGoBool, parseGoInt } from './rack-wire';

/**
 * The rack's websocket controllers. Each runs after the upgrade and authentication; the server sends the
 * `ERROR: …` frame for anything thrown and always finishes with the EOF frame.
 */

type Handler = (context: SocketRouteContext) => Promise<void>;

function execSession(context: SocketRouteContext, environment: Record<string, string>): ExecSession {
  const { socket, runtime } = context;
  return {
    write: (data) => socket.write(data),
    read: () => socket.read(),
    sleep: (ms) => runtime.timers.sleep(ms, socket.signal),
    isOpen: () => socket.isOpen,
    environment,
  };
}

/** stdapi UnmarshalOptions for exec and shell: malformed headers fail before the provider is called. */
function readTerminalHeaders(header: SocketRouteContext['header']): void {
  for (const name of ['height', 'width']) {
    const value = header(name);
    if (value !== undefined) parseGoInt(value);
  }
  for (const name of ['tty', 'entrypoint', 'disable-stdin']) {
    const value = header(name);
    if (value !== undefined) parseGoBool(value);
  }
}

/** A provider error on exec still renders the exit marker (with code 0) before the ERROR frame. */
async function withExitMarkerOnError<T>(socket: RackSocket, lookup: () => T): Promise<T> {
  try {
    return lookup();
  } catch (error) {
    await socket.write(`${EXIT_MARKER_PREFIX}0\n`);
    throw error;
  }
}

export const execProcess: Handler = async (context) => {
  const { runtime, socket, vars, header } = context;
  readTerminalHeaders(header);
  const process = await withExitMarkerOnError(socket, () => runtime.state.resolveExecTarget(vars.app, vars.pid));
  const environment = runtime.state.releaseEnvironment(vars.app, process.release);
  const code = await runExecScript(header('command') ?? '', execSession(context, environment));
  await socket.write(`${EXIT_MARKER_PREFIX}${code}\n`);
};

export const shellInstance: Handler = async (context) => {
  const { runtime, socket, vars, header } = context;
  readTerminalHeaders(header);
  await withExitMarkerOnError(socket, () => runtime.state.getInstance(vars.id));
  const code = await runExecScript(header('command') ?? '', execSession(context, { HOSTNAME: vars.id }));
  await socket.write(`${EXIT_MARKER_PREFIX}${code}\n`);
};

/** Echoes the client's bytes back until its EOF: a stand-in for psql and for a TCP echo server. */
async function echoUntilEof(socket: RackSocket): Promise<void> {
  for (let chunk = await socket.read(); chunk; chunk = await socket.read()) await socket.write(chunk);
}

export const consoleResource: Handler = async ({ runtime, socket, vars }) => {
  runtime.state.getAppResource(vars.app, vars.name);
  await echoUntilEof(socket);
};

export const proxyTunnel: Handler = async ({ socket, vars }) => {
  if (!isSafeProxyTarget(vars.host.trim())) throw badRequest('invalid proxy host');
  const port = /^\d+$/.test(vars.port) ? Number.parseInt(vars.port, 10) : Number.NaN;
  if (!(port >= 1 && port <= 65535)) throw badRequest('invalid proxy port');
  await echoUntilEof(socket);
};

export const streamAppLogs: Handler = async ({ runtime, socket, vars, header }) => {
  const options = readLogOptions(header);
  runtime.state.getApp(vars.name);
  await streamLogs(socket, runtime, options, () => runtime.state.listProcesses(vars.name, {}).map((process) => processLogSource(process)));
};

export const streamServiceLogs: Handler = async ({ runtime, socket, vars, header }) => {
  const options = readLogOptions(header);
  if (!runtime.state.listServices(vars.app).some((service) => service.name === vars.service))
    throw notFound(`service not found: ${vars.app}/${vars.service}`);
  await streamLogs(socket, runtime, options, () =>
    runtime.state.listProcesses(vars.app, { service: vars.service }).map((process) => processLogSource(process)),
  );
};

export const streamProcessLogs: Handler = async ({ runtime, socket, vars, header }) => {
  const options = readLogOptions(header);
  const process = runtime.state.getProcess(vars.app, vars.pid);
  await streamLogs(socket, runtime, options, () => [processLogSource(process)]);
};

export const streamSystemLogs: Handler = async ({ runtime, socket, header }) => {
  const options = readLogOptions(header);
  await streamLogs(socket, runtime, options, () =>
    runtime.state.listSystemProcesses(false).map((process) => processLogSource(process, 'system')),
  );
};

/** Build output as raw lines (no prefix; `Since` ignored), following until the build ends. */
export const streamBuildLogs: Handler = async ({ runtime, socket, vars, header }) => {
  const options = readLogOptions(header);
  const build = runtime.state.getBuild(vars.app, vars.id);
  for (const line of runtime.state.buildLogLines(vars.app, vars.id)) await socket.write(line);
  if (!options.follow || runtime.state.isBuildFinished(build)) return;
  let unsubscribe = (): void => undefined;
  await new Promise<void>((resolve) => {
    unsubscribe = runtime.state.watchBuild(build.id, { line: (text) => void socket.write(text), end: resolve });
    socket.signal.addEventListener('abort', () => resolve(), { once: true });
  });
  unsubscribe();
};

/** pkg/api isSafeProxyTarget: no loopback, link-local, unspecified, ULA, odd IP spellings or metadata hosts. */
export function isSafeProxyTarget(host: string): boolean {
  let clean = host.replace(/^\[/, '').replace(/\]$/, '');
  const zone = clean.indexOf('%');
  if (zone >= 0) clean = clean.slice(0, zone);
  if (clean === '') return false;
  const family = isIP(clean);
  if (family === 4) {
    const [a, b, c] = clean.split('.').map(Number);
    if (a === 127 || (a === 169 && b === 254) || (a === 224 && b === 0 && c === 0) || clean === '0.0.0.0') return false;
  } else if (family === 6) {
    const lower = clean.toLowerCase();
    if (
      lower === '::1' ||
      lower === '::' ||
      /^fe[89ab]/.test(lower) ||
      /^f[cd]/.test(lower) ||
      /^ff02:/.test(lower) ||
      /^::ffff:127\./.test(lower)
    )
      return false;
  } else if (/^0x/i.test(clean) || /^[\d.]+$/.test(clean)) {
    return false;
  }
  const name = clean.toLowerCase().replace(/\.+$/, '');
  return name !== 'localhost' && name !== 'metadata.google.internal';
}

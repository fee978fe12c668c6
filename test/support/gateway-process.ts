import { type ChildProcess, type StdioOptions, spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { freePort } from './free-port';

const ROOT = resolve(__dirname, '../..');
/**
 * Started from TypeScript (swc-node compiles every module on load), beside the rest of the suite on a
 * loaded CI machine: minutes are possible, though seconds are usual.
 */
const READY_TIMEOUT_MS = 180_000;

export interface GatewayProcess {
  readonly url: string;
  readonly process: ChildProcess;
  /** Sends `signal` (SIGTERM: a graceful shutdown) and resolves once the process has exited. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/**
 * The gateway as operators run it (src/main.ts), in a process of its own with exactly `env` (PORT, when
 * absent, is a free one); resolves once its readiness probe answers 200.
 */
export async function startGatewayProcess(
  env: Record<string, string>,
  options: { readonly nodeArgs?: string[]; readonly stdio?: StdioOptions } = {},
): Promise<GatewayProcess> {
  const port = env.PORT ?? String(await freePort());
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), '-r', '@swc-node/register', 'src/main.ts'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ...env, PORT: port },
    stdio: options.stdio ?? ['ignore', 'ignore', 'inherit'],
  });
  const gateway = { url, process: child, stop: (signal: NodeJS.Signals = 'SIGTERM') => stopProcess(child, signal) };
  let last: number | undefined;
  for (const deadline = Date.now() + READY_TIMEOUT_MS; Date.now() < deadline;) {
    last = (await fetch(`${url}/api/v1/health/ready`).catch(() => undefined))?.status;
    if (last === 200) return gateway;
    if (child.exitCode !== null) throw new Error(`the gateway on port ${port} exited with ${child.exitCode} before it was ready`);
    await new Promise((done) => setTimeout(done, 100));
  }
  await gateway.stop('SIGKILL');
  throw new Error(`the gateway on port ${port} was not ready within ${READY_TIMEOUT_MS} ms (readiness answered ${last ?? 'nothing'})`);
}

function stopProcess(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  return new Promise((done) => {
    if (child.exitCode !== null || child.signalCode !== null) return done();
    child.once('exit', () => done());
    child.kill(signal);
  });
}

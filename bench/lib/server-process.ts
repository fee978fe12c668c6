import { ChildProcess, execFileSync, fork } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ControlMessage, ProfileAnswer, isProfileAnswer, isServerReadyMessage } from './child-protocol';

const REPOSITORY = resolve(__dirname, '../..');
const START_TIMEOUT_MS = 120_000;

/**
 * The memory settings the production image runs with (its `ENV MALLOC_...` and `NODE_OPTIONS` lines),
 * given to every system alike: they decide how streamed buffers are allocated and collected, and
 * without them the streaming workloads would measure glibc's and V8's defaults, not the proxies.
 */
export const PRODUCTION_RUNTIME_ENV: Readonly<Record<string, string>> = Object.fromEntries(
  [...readFileSync(join(REPOSITORY, 'Dockerfile'), 'utf8').matchAll(/^ENV (MALLOC_\w+|NODE_OPTIONS)=(\S+)$/gm)].map(([, name, value]) => [
    name,
    value,
  ]),
);

/**
 * Compiles src/, migrations/ and bench/ with the project's swc settings (as `npm run build` does) into
 * a temporary directory, so the systems under test run plain JavaScript as in production: under
 * swc-node the compiler alone adds some 70 MiB to every process's RSS and shows up in profiles.
 * Returns the directory and a function removing it.
 */
export function compileForBench(): { build: string; remove: () => void } {
  const build = mkdtempSync(join(tmpdir(), 'rgw-bench-'));
  execFileSync(
    join(REPOSITORY, 'node_modules', '.bin', 'swc'),
    [
      'src',
      'migrations',
      'bench',
      '-d',
      build,
      '--config-file',
      '.swcrc',
      '--ignore',
      '**/*.spec.ts',
      '--ignore',
      'src/ui/assets/**',
      '--quiet',
    ],
    { cwd: REPOSITORY, stdio: 'inherit' },
  );
  // The pages' script and stylesheet are served as they are, as `npm run build` copies them.
  cpSync(join(REPOSITORY, 'src', 'ui', 'assets'), join(build, 'src', 'ui', 'assets'), { recursive: true });
  const remove = () => rmSync(build, { recursive: true, force: true });
  // Also when the runner dies half way (its children exit when it disconnects).
  process.once('exit', remove);
  return { build, remove };
}
const STOP_TIMEOUT_MS = 30_000;

/** One system under test, running alone in its own process so its RSS and CPU are its own. */
export class ServerProcess {
  private constructor(
    readonly name: string,
    private readonly child: ChildProcess,
    readonly port: number,
    readonly token: string | undefined,
  ) {}

  get pid(): number {
    return this.child.pid ?? 0;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /**
   * Forks `bench/servers/<script>.js` from a compiled build (see compileForBench) with production
   * settings, and waits until it listens.
   */
  static start(build: string, name: string, script: string, args: readonly string[] = []): Promise<ServerProcess> {
    const child = fork(join(build, 'bench', 'servers', `${script}.js`), [...args], {
      execArgv: [],
      env: { ...process.env, ...PRODUCTION_RUNTIME_ENV, NODE_ENV: 'production', NODE_PATH: join(REPOSITORY, 'node_modules') },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    return new Promise((resolvePromise, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`${name} did not start within ${START_TIMEOUT_MS / 1000} s`));
      }, START_TIMEOUT_MS);
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`${name} exited with status ${code} before it was ready`));
      });
      child.on('message', (message) => {
        if (!isServerReadyMessage(message)) return;
        clearTimeout(timer);
        child.removeAllListeners('exit');
        resolvePromise(new ServerProcess(name, child, message.port, message.token));
      });
    });
  }

  /** Starts sampling the process's CPU (V8 profiler, 250 µs interval). */
  async startProfile(): Promise<void> {
    await this.ask({ kind: 'profile-start' }, 'profile-started');
  }

  /** Stops sampling and has the process write its `.cpuprofile` to `path`. */
  async stopProfile(path: string): Promise<void> {
    await this.ask({ kind: 'profile-stop', path }, 'profile-written');
  }

  private ask(message: ControlMessage, answerKind: ProfileAnswer['kind']): Promise<void> {
    return new Promise((resolvePromise, reject) => {
      const onMessage = (answer: unknown) => {
        if (!isProfileAnswer(answer) || answer.kind !== answerKind) return;
        this.child.off('message', onMessage);
        if (answer.error) reject(new Error(`${this.name}: ${answer.error}`));
        else resolvePromise();
      };
      this.child.on('message', onMessage);
      this.child.send(message);
    });
  }

  /** Asks for a clean exit, killing the process only if it hangs. */
  stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return Promise.resolve();
    return new Promise((resolvePromise) => {
      const timer = setTimeout(() => this.child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      this.child.once('exit', () => {
        clearTimeout(timer);
        resolvePromise();
      });
      if (this.child.connected) this.child.send({ kind: 'stop' } satisfies ControlMessage);
      else this.child.kill('SIGTERM');
    });
  }
}

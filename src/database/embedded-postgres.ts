import { type ChildProcess, fork } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { extname, join, resolve } from 'node:path';
import type { EmbeddedEngineMessage } from './embedded-postgres.process';

const IN_MEMORY = 'memory://';
/** A first start on a new data directory initialises it (initdb): seconds on a slow machine. */
const START_TIMEOUT_MS = 120_000;
/** Closing flushes PGlite's data to disk; past this the engine is killed. */
const STOP_TIMEOUT_MS = 30_000;

export class DataDirectoryInUseError extends Error {
  constructor(directory: string, pid: number) {
    super(`the embedded database in ${directory} is in use by process ${pid}; stop it first (PGlite is single-process)`);
  }
}

/**
 * A real Postgres engine (PGlite) behind its wire-protocol socket server, so the gateway reaches it
 * through the same `pg` driver, TypeORM and migrations as a production database. It runs in a child
 * process the gateway starts and stops (embedded-postgres.process.ts): off the gateway's heap, whose
 * collections would otherwise mark the engine's hundreds of MiB over and over. PGlite serves one
 * connection at a time: the pool must hold exactly one.
 */
export class EmbeddedPostgres {
  private constructor(
    private readonly engine: ChildProcess,
    private readonly lockFile: string | undefined,
    readonly connectionUrl: string,
  ) {}

  /** `dataDir` of `memory://` keeps everything in memory (tests); otherwise data persists there. */
  static async start(dataDir: string): Promise<EmbeddedPostgres> {
    const location = dataDir === IN_MEMORY ? IN_MEMORY : resolve(dataDir, 'pglite');
    const lockFile = location === IN_MEMORY ? undefined : lockDataDirectory(resolve(dataDir));
    const engine = forkEngine(location);
    try {
      const address = await listeningAddress(engine);
      return new EmbeddedPostgres(engine, lockFile, `postgres://postgres@${address}/postgres`);
    } catch (error) {
      engine.kill('SIGKILL');
      if (lockFile) rmSync(lockFile, { force: true });
      throw error;
    }
  }

  /** The engine's process id, for operators and the bench (its memory is its own). */
  get pid(): number | undefined {
    return this.engine.pid;
  }

  async stop(): Promise<void> {
    if (this.engine.exitCode === null && this.engine.signalCode === null) {
      const exited = new Promise<void>((done) => this.engine.once('exit', () => done()));
      const killer = setTimeout(() => this.engine.kill('SIGKILL'), STOP_TIMEOUT_MS);
      this.engine.send('stop');
      await exited;
      clearTimeout(killer);
    }
    if (this.lockFile) rmSync(this.lockFile, { force: true });
  }
}

/** The engine's entry point beside this file: compiled JavaScript in production, TypeScript under swc-node in development and tests. */
function forkEngine(location: string): ChildProcess {
  const extension = extname(__filename);
  const entry = join(__dirname, `embedded-postgres.process${extension}`);
  return fork(entry, [location], {
    execArgv: extension === '.ts' ? ['-r', '@swc-node/register'] : [],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
}

function listeningAddress(engine: ChildProcess): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => reject(new Error('the embedded database did not start in time')), START_TIMEOUT_MS);
    engine.once('message', (message: EmbeddedEngineMessage) => {
      clearTimeout(timer);
      if (message.kind === 'listening') resolvePromise(message.address);
      else reject(new Error(`the embedded database failed to start: ${message.message}`));
    });
    engine.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the embedded database exited with ${code} before it was ready`));
    });
  });
}

/** Two processes writing one PGlite directory corrupt it; the second must refuse to start. */
function lockDataDirectory(directory: string): string {
  mkdirSync(resolve(directory, 'pglite'), { recursive: true });
  const lockFile = resolve(directory, 'gateway.pid');
  try {
    writeFileSync(lockFile, String(process.pid), { flag: 'wx' });
    return lockFile;
  } catch {
    const holder = Number(readFileSync(lockFile, 'utf8'));
    if (holder && holder !== process.pid && isAlive(holder)) throw new DataDirectoryInUseError(directory, holder);
    writeFileSync(lockFile, String(process.pid));
    return lockFile;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';

const IN_MEMORY = 'memory://';

export class DataDirectoryInUseError extends Error {
  constructor(directory: string, pid: number) {
    super(`the embedded database in ${directory} is in use by process ${pid}; stop it first (PGlite is single-process)`);
  }
}

/**
 * A real Postgres engine in-process (PGlite) behind its wire-protocol socket server, so the gateway
 * reaches it through the same `pg` driver, TypeORM and migrations as a production database.
 * PGlite serves one connection at a time: the pool must hold exactly one.
 */
export class EmbeddedPostgres {
  private constructor(
    private readonly database: PGlite,
    private readonly server: PGLiteSocketServer,
    private readonly lockFile: string | undefined,
    readonly connectionUrl: string,
  ) {}

  /** `dataDir` of `memory://` keeps everything in memory (tests); otherwise data persists there. */
  static async start(dataDir: string): Promise<EmbeddedPostgres> {
    const location = dataDir === IN_MEMORY ? IN_MEMORY : resolve(dataDir, 'pglite');
    const lockFile = location === IN_MEMORY ? undefined : lockDataDirectory(resolve(dataDir));
    try {
      const database = await PGlite.create(location);
      const server = new PGLiteSocketServer({ db: database, host: '127.0.0.1', port: 0, maxConnections: 1 });
      await server.start();
      return new EmbeddedPostgres(database, server, lockFile, `postgres://postgres@${server.getServerConn()}/postgres`);
    } catch (error) {
      if (lockFile) rmSync(lockFile, { force: true });
      throw error;
    }
  }

  async stop(): Promise<void> {
    await this.server.stop();
    await this.database.close();
    if (this.lockFile) rmSync(this.lockFile, { force: true });
  }
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

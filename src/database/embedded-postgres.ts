import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

/**
 * A real Postgres engine in-process (PGlite) behind its wire-protocol socket server, so the gateway
 * reaches it through the same `pg` driver, TypeORM and migrations as a production database.
 * PGlite serves one connection at a time: the pool must hold exactly one.
 */
export class EmbeddedPostgres {
  private constructor(
    private readonly database: PGlite,
    private readonly server: PGLiteSocketServer,
    readonly connectionUrl: string,
  ) {}

  /** `dataDir` of `memory://` keeps everything in memory (tests); otherwise data persists there. */
  static async start(dataDir: string): Promise<EmbeddedPostgres> {
    const location = dataDir === 'memory://' ? dataDir : resolve(dataDir, 'pglite');
    if (location !== 'memory://') mkdirSync(location, { recursive: true });
    const database = await PGlite.create(location);
    const server = new PGLiteSocketServer({ db: database, host: '127.0.0.1', port: 0, maxConnections: 1 });
    await server.start();
    return new EmbeddedPostgres(database, server, `postgres://postgres@${server.getServerConn()}/postgres`);
  }

  async stop(): Promise<void> {
    await this.server.stop();
    await this.database.close();
  }
}

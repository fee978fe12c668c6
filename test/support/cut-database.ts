import { EmbeddedPostgres } from '../../src/database/embedded-postgres';
import { type TcpCut, addressOf, startTcpCut } from './tcp-cut';
import { createTestDatabase } from './test-database';

export interface CutDatabase {
  /** For the gateway: DATABASE_URL through the cut, or nothing (the embedded engine, reached through it). */
  readonly env: Record<string, string>;
  /** The cut between the gateway and its database; for the embedded engine, once the gateway started it. */
  cut(): TcpCut;
  close(): Promise<void>;
}

/**
 * A database for the next test gateway started in this process, reached through a TcpCut: a scratch
 * database on the server RGW_TEST_DATABASE_URL names, or else the embedded engine, started by the
 * gateway as always (and so still pooled at one connection), only its address swapped for the cut's.
 */
export async function cutDatabase(): Promise<CutDatabase> {
  const database = await createTestDatabase();
  if (database.url) {
    const cut = await startTcpCut(addressOf(database.url));
    return {
      env: { DATABASE_URL: cut.through(database.url) },
      cut: () => cut,
      close: async () => {
        await cut.close();
        await database.drop();
      },
    };
  }
  let engineCut: TcpCut | undefined;
  const start = EmbeddedPostgres.start.bind(EmbeddedPostgres);
  jest.spyOn(EmbeddedPostgres, 'start').mockImplementationOnce(async (dataDir) => {
    const engine = await start(dataDir);
    const cut = await startTcpCut(addressOf(engine.connectionUrl));
    engineCut = cut;
    const connectionUrl = cut.through(engine.connectionUrl);
    return new Proxy(engine, {
      get: (target, key): unknown => (key === 'connectionUrl' ? connectionUrl : Reflect.get(target, key, target)),
    });
  });
  return {
    env: {},
    cut: () => {
      if (!engineCut) throw new Error('the gateway has not started its embedded engine yet');
      return engineCut;
    },
    close: async () => {
      jest.restoreAllMocks();
      await engineCut?.close();
    },
  };
}

import { createScratchDatabase } from '../../test/support/scratch-database';

export interface BenchDatabase {
  /** A fresh database on the server DATABASE_URL names, or undefined for the embedded engine. */
  readonly url: string | undefined;
  readonly description: string;
  drop(): Promise<void>;
}

/**
 * With DATABASE_URL the gateway gets a fresh database on that server (dropped afterwards), so the bench
 * neither reads nor pollutes whatever database the URL names; without it, the embedded engine in memory.
 */
export async function createBenchDatabase(serverUrl: string | undefined): Promise<BenchDatabase> {
  const database = await createScratchDatabase(serverUrl, 'rgw_bench');
  const description = database.url
    ? `PostgreSQL at ${new URL(database.url).host} (fresh database ${database.name})`
    : 'embedded PGlite (in memory)';
  return { url: database.url, description, drop: () => database.drop() };
}

import { randomBytes } from 'node:crypto';
import { Client } from 'pg';

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
  if (!serverUrl) return { url: undefined, description: 'embedded PGlite (in memory)', drop: () => Promise.resolve() };
  const name = `rgw_bench_${randomBytes(6).toString('hex')}`;
  await withClient(serverUrl, (client) => client.query(`CREATE DATABASE ${name}`));
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    description: `PostgreSQL at ${url.host} (fresh database ${name})`,
    drop: () => withClient(serverUrl, (client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined),
  };
}

async function withClient<T>(url: string, work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

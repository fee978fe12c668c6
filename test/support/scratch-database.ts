import { randomBytes } from 'node:crypto';
import { Client } from 'pg';

export interface ScratchDatabase {
  /** Connection URL of a fresh, empty database, or undefined for the embedded engine (in memory). */
  readonly url: string | undefined;
  /** Its name on the server, when there is one. */
  readonly name: string | undefined;
  drop(): Promise<void>;
}

/**
 * A database of one's own: a fresh one on the Postgres server `serverUrl` names (dropped by `drop`), so
 * nothing reads or pollutes the database that URL points at; without a server, the embedded engine.
 */
export async function createScratchDatabase(serverUrl: string | undefined, prefix: string): Promise<ScratchDatabase> {
  if (!serverUrl) return { url: undefined, name: undefined, drop: () => Promise.resolve() };
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  await withClient(serverUrl, (client) => client.query(`CREATE DATABASE ${name}`));
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
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

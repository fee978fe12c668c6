import { randomBytes } from 'node:crypto';
import { Client } from 'pg';

export interface TestDatabase {
  /** Connection URL of a fresh, empty database, or undefined for the embedded engine (in memory). */
  readonly url: string | undefined;
  drop(): Promise<void>;
}

/**
 * Each test file gets a database of its own. With RGW_TEST_DATABASE_URL (a server CI provides) that is
 * a freshly created database on it; otherwise the gateway's embedded Postgres engine, in memory.
 */
export async function createTestDatabase(): Promise<TestDatabase> {
  const serverUrl = process.env.RGW_TEST_DATABASE_URL;
  if (!serverUrl) return { url: undefined, drop: () => Promise.resolve() };
  const name = `rgw_test_${randomBytes(6).toString('hex')}`;
  await withClient(serverUrl, (client) => client.query(`CREATE DATABASE ${name}`));
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
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

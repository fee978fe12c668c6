import { ScratchDatabase, createScratchDatabase } from './scratch-database';

export type TestDatabase = ScratchDatabase;

/**
 * Each test file gets a database of its own. With RGW_TEST_DATABASE_URL (a server CI provides) that is
 * a freshly created database on it; otherwise the gateway's embedded Postgres engine, in memory.
 */
export function createTestDatabase(): Promise<TestDatabase> {
  return createScratchDatabase(process.env.RGW_TEST_DATABASE_URL, 'rgw_test');
}

import { ScratchDatabase, createScratchDatabase } from './scratch-database';

export type TestDatabase = ScratchDatabase;

/**
 * Each test file gets a database of its own. With RGW_TEST_DATABASE_URL (a server CI provides) that is
 * a freshly created database on it; otherwise the gateway's embedded Postgres engine, in memory.
 */
export function createTestDatabase(): Promise<TestDatabase> {
  return createScratchDatabase(process.env.RGW_TEST_DATABASE_URL, 'rgw_test');
}

/**
 * `describe` for tests that need a Postgres server: several gateway instances on one database (the
 * embedded engine serves one process). Without RGW_TEST_DATABASE_URL they are skipped with a note
 * locally; under CI=true they fail instead, so CI can never pass without running them.
 */
export function describeOnPostgresServer(name: string, tests: () => void): void {
  if (process.env.RGW_TEST_DATABASE_URL) {
    describe(name, tests);
    return;
  }
  if (process.env.CI === 'true') {
    describe(name, () => {
      it('runs in CI, where a Postgres server must be given', () => {
        throw new Error('RGW_TEST_DATABASE_URL is not set: CI must run these tests against a Postgres server (.ci/run sets it)');
      });
    });
    return;
  }
  console.log(
    `Skipping "${name}": it needs a Postgres server. Set RGW_TEST_DATABASE_URL (e.g. postgres://postgres@127.0.0.1:5432/postgres).`,
  );
  describe.skip(name, tests);
}

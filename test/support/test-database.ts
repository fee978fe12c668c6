import { ScratchDatabase, createScratchDatabase } from './scratch-database';

export type TestDatabase = ScratchDatabase;

/**
 * Each test file gets a database of its own. With RGW_TEST_DATABASE_URL (a server CI provides) that is
 * a freshly created database on it; otherwise the gateway's embedded Postgres engine, in memory.
 */
export function createTestDatabase(): Promise<TestDatabase> {
  return createScratchDatabase(process.env.RGW_TEST_DATABASE_URL, 'rgw_test');
}

/** The servers a suite can ask for, and the variable that names each (.ci/run sets both when they answer). */
const SERVERS = {
  postgres: { variable: 'RGW_TEST_DATABASE_URL', example: 'postgres://postgres@127.0.0.1:5432/postgres' },
  redis: { variable: 'RGW_TEST_REDIS_URL', example: 'redis://127.0.0.1:6379/15' },
} as const;

/**
 * `describe` for tests that need real servers: several gateway instances on one database (the
 * embedded engine serves one process), or on one Redis. Without the servers' URLs they are skipped
 * with a note locally; under CI=true they fail instead, so CI can never pass without running them.
 */
export function describeOnServers(name: string, servers: ReadonlyArray<keyof typeof SERVERS>, tests: () => void): void {
  const missing = servers.map((server) => SERVERS[server]).filter(({ variable }) => !process.env[variable]);
  if (missing.length === 0) {
    describe(name, tests);
    return;
  }
  const names = missing.map(({ variable }) => variable).join(' and ');
  if (process.env.CI === 'true') {
    describe(name, () => {
      it('runs in CI, where the servers must be given', () => {
        throw new Error(`${names} not set: CI must run these tests against real servers (.ci/run sets them)`);
      });
    });
    return;
  }
  console.log(`Skipping "${name}": set ${missing.map(({ variable, example }) => `${variable} (e.g. ${example})`).join(' and ')}.`);
  describe.skip(name, tests);
}

export function describeOnPostgresServer(name: string, tests: () => void): void {
  describeOnServers(name, ['postgres'], tests);
}

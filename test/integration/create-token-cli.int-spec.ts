import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runScript } from '../support/run-script';
import { TestDatabase, createTestDatabase } from '../support/test-database';
import { basicAuth, startTestGateway } from '../support/test-gateway';
import { MockRack, startMockRack } from '../support/mock-rack';

const createTokenCommand = (args: string[], env: Record<string, string>) => runScript('src/cli/create-token.ts', args, env);

describe('npm run token:create', () => {
  let database: TestDatabase;
  let dataDir: string;
  let rack: MockRack;
  let env: Record<string, string>;

  beforeAll(async () => {
    database = await createTestDatabase();
    dataDir = mkdtempSync(join(tmpdir(), 'rgw-cli-'));
    rack = await startMockRack();
    env = {
      NODE_ENV: 'development',
      RACK_HOST: rack.url,
      RACK_TOKEN: rack.password,
      ADMIN_USERS: 'ci@example.com',
      DATA_DIR: dataDir,
      LOG_LEVEL: 'error',
      ...(database.url ? { DATABASE_URL: database.url } : {}),
    };
  });

  afterAll(async () => {
    await rack.close();
    await database.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('prints a working token for an existing user, and only the token', async () => {
    const { code, stdout } = await createTokenCommand(['--user', 'ci@example.com', '--name', 'github-actions'], env);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^rgw_[A-Za-z0-9_-]{43}\n$/);

    const gateway = await startTestGateway({
      rackUrl: rack.url,
      rackToken: rack.password,
      env: { DATA_DIR: dataDir, ...(database.url ? { DATABASE_URL: database.url } : {}) },
    });
    try {
      const me = await fetch(`${gateway.url}/api/v1/me`, { headers: { authorization: basicAuth(stdout.trim()) } });
      expect(await me.json()).toMatchObject({ user: { email: 'ci@example.com', role: 'admin' }, authenticatedBy: 'token' });
    } finally {
      await gateway.close();
    }
  }, 60_000);

  it('refuses an unknown user and a missing argument', async () => {
    const unknown = await createTokenCommand(['--user', 'nobody@example.com', '--name', 'x'], env);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('no user nobody@example.com');
    expect(unknown.stdout).toBe('');

    const usage = await createTokenCommand(['--user', 'ci@example.com'], env);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('usage:');
  }, 60_000);
});

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MockRack, startMockRack } from '../support/mock-rack';
import { TestDatabase, createTestDatabase } from '../support/test-database';
import { startTestGateway } from '../support/test-gateway';
import { UsersService } from '../../src/users/users.service';

describe('ADMIN_USERS across restarts', () => {
  let rack: MockRack;
  let database: TestDatabase;
  let dataDir: string;

  beforeAll(async () => {
    rack = await startMockRack();
    database = await createTestDatabase();
    dataDir = mkdtempSync(join(tmpdir(), 'rgw-bootstrap-'));
  });

  afterAll(async () => {
    await rack.close();
    await database.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** Both starts use one persistent database: the server one in CI, an embedded one on disk otherwise. */
  const start = () =>
    startTestGateway({
      rackUrl: rack.url,
      rackToken: rack.password,
      env: {
        ADMIN_USERS: 'founder@example.com,second@example.com',
        DATA_DIR: dataDir,
        ...(database.url ? { DATABASE_URL: database.url } : {}),
      },
    });

  it('creates missing admins, but never restores a role an admin changed later', async () => {
    const first = await start();
    const users = first.app.get(UsersService);
    expect((await users.getByEmail('founder@example.com')).role).toBe('admin');
    await users.update('founder@example.com', { role: 'viewer' });
    await users.remove('second@example.com');
    await first.close();

    const second = await start();
    try {
      const restarted = second.app.get(UsersService);
      expect((await restarted.getByEmail('founder@example.com')).role).toBe('viewer');
      expect((await restarted.getByEmail('second@example.com')).role).toBe('admin');
    } finally {
      await second.close();
    }
  }, 60_000);
});

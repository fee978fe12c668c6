import { DataSource } from 'typeorm';
import { AccessChanges } from '../../src/users/access-changes.service';
import { MockRack, startMockRack } from '../support/mock-rack';
import { TestDatabase, createTestDatabase, describeOnPostgresServer } from '../support/test-database';
import { TestGateway, basicAuth, startTestGateway } from '../support/test-gateway';

describeOnPostgresServer('two gateway instances on one database', () => {
  let rack: MockRack;
  let database: TestDatabase;
  let first: TestGateway;
  let second: TestGateway;
  /** The backend of the second instance's LISTEN connection: how it hears the first one's changes. */
  let secondListenerPid: number;

  beforeAll(async () => {
    rack = await startMockRack();
    database = await createTestDatabase();
    const env = { DATABASE_URL: database.url ?? '' };
    first = await startTestGateway({ rackUrl: rack.url, rackToken: rack.password, env });
    const firstListeners = await listenerPids();
    second = await startTestGateway({ rackUrl: rack.url, rackToken: rack.password, env });
    const secondListeners = (await listenerPids()).filter((pid) => !firstListeners.includes(pid));
    expect(secondListeners).toHaveLength(1);
    secondListenerPid = secondListeners[0];
  });

  afterAll(async () => {
    await first.close();
    await second.close();
    await rack.close();
    await database.drop();
  });

  /** Backends of this database that last ran LISTEN: each instance's access-change listener. */
  async function listenerPids(): Promise<number[]> {
    const rows = await first.app
      .get(DataSource)
      .query<Array<{ pid: number }>>(`SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN %'`);
    return rows.map((row) => row.pid);
  }

  /** Revokes the user's only token, as its owner would, through the given instance's API. */
  async function revokeOn(gateway: TestGateway, token: string): Promise<number> {
    const headers = { authorization: `Bearer ${token}` };
    const [{ id }] = (await (await fetch(`${gateway.url}/api/v1/tokens`, { headers })).json()) as Array<{ id: string }>;
    return (await fetch(`${gateway.url}/api/v1/tokens/${id}`, { method: 'DELETE', headers })).status;
  }

  const appsOn = (gateway: TestGateway, token: string) =>
    fetch(`${gateway.url}/apps`, { headers: { authorization: basicAuth(token) } }).then((response) => response.status);

  /** A NOTIFY crosses instances in milliseconds; wait for it rather than sleeping a fixed time. */
  async function eventually(check: () => Promise<boolean>, attempts = 100): Promise<boolean> {
    for (let attempt = 0; attempt < attempts; attempt += 1) {
      if (await check()) return true;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    return false;
  }

  it('a token revoked on one instance stops working on the other', async () => {
    const { token } = await first.createUserWithToken('ci@example.com', 'viewer');
    expect(await appsOn(second, token)).toBe(200);
    expect(await revokeOn(first, token)).toBe(204);
    expect(await eventually(async () => (await appsOn(second, token)) === 401)).toBe(true);
  });

  it('a user disabled on one instance loses access on the other', async () => {
    const { user, token } = await first.createUserWithToken('leaver@example.com', 'viewer');
    const { token: admin } = await first.createUserWithToken('admin@example.com', 'admin');
    expect(await appsOn(second, token)).toBe(200);
    const disable = await fetch(`${first.url}/api/v1/users/${user.email}`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      body: JSON.stringify({ disabled: true }),
    });
    expect(disable.status).toBe(200);
    expect(await eventually(async () => (await appsOn(second, token)) === 401)).toBe(true);
  });

  it('an instance that cannot hear the others does not trust its token cache: a token revoked elsewhere fails there at once', async () => {
    const secondAccessChanges = second.app.get(AccessChanges);
    const { token } = await first.createUserWithToken('deaf@example.com', 'viewer');

    await first.app.get(DataSource).query('SELECT pg_terminate_backend($1)', [secondListenerPid]);
    expect(await eventually(() => Promise.resolve(!secondAccessChanges.isSynchronised))).toBe(true);
    // Looked up while deaf, so the token sits in the second instance's cache, which no NOTIFY will clear.
    expect(await appsOn(second, token)).toBe(200);
    expect(await revokeOn(first, token)).toBe(204);
    expect(await appsOn(second, token)).toBe(401);
    // Still deaf when it refused: the refusal came from distrusting the cache, not from a reconnect clearing it.
    expect(secondAccessChanges.isSynchronised).toBe(false);

    // It reconnects on its own; later tests get a listening instance again.
    expect(await eventually(() => Promise.resolve(secondAccessChanges.isSynchronised), 500)).toBe(true);
  });
});

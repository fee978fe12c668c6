import { MockRack, startMockRack } from '../support/mock-rack';
import { TestDatabase, createTestDatabase } from '../support/test-database';
import { TestGateway, basicAuth, startTestGateway } from '../support/test-gateway';

// Several instances share one database only on a Postgres server; the embedded engine is one process.
const onPostgresServer = process.env.RGW_TEST_DATABASE_URL ? describe : describe.skip;

onPostgresServer('two gateway instances on one database', () => {
  let rack: MockRack;
  let database: TestDatabase;
  let first: TestGateway;
  let second: TestGateway;

  beforeAll(async () => {
    rack = await startMockRack();
    database = await createTestDatabase();
    const env = { DATABASE_URL: database.url ?? '' };
    first = await startTestGateway({ rackUrl: rack.url, rackToken: rack.password, env });
    second = await startTestGateway({ rackUrl: rack.url, rackToken: rack.password, env });
  });

  afterAll(async () => {
    await first.close();
    await second.close();
    await rack.close();
    await database.drop();
  });

  const appsOn = (gateway: TestGateway, token: string) =>
    fetch(`${gateway.url}/apps`, { headers: { authorization: basicAuth(token) } }).then((response) => response.status);

  /** A NOTIFY crosses instances in milliseconds; wait for it rather than sleeping a fixed time. */
  async function eventually(check: () => Promise<boolean>): Promise<boolean> {
    for (let attempt = 0; attempt < 100; attempt += 1) {
      if (await check()) return true;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    return false;
  }

  it('a token revoked on one instance stops working on the other', async () => {
    const { token } = await first.createUserWithToken('ci@example.com', 'viewer');
    expect(await appsOn(second, token)).toBe(200);
    const { id } = (
      (await (await fetch(`${first.url}/api/v1/tokens`, { headers: { authorization: `Bearer ${token}` } })).json()) as Array<{ id: string }>
    )[0];
    expect(
      (await fetch(`${first.url}/api/v1/tokens/${id}`, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } })).status,
    ).toBe(204);
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
});

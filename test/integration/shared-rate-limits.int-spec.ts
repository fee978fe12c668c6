import { MockRack, startMockRack } from '../support/mock-rack';
import { startsFreshRateWindow } from '../support/rate-windows';
import { TestDatabase, createTestDatabase, describeOnServers } from '../support/test-database';
import { TestGateway, basicAuth, startTestGateway } from '../support/test-gateway';

describeOnServers('rate limits shared by two gateway instances through Redis', ['postgres', 'redis'], () => {
  let rack: MockRack;
  let database: TestDatabase;
  let first: TestGateway;
  let second: TestGateway;

  beforeAll(async () => {
    rack = await startMockRack();
    database = await createTestDatabase();
    const env = {
      DATABASE_URL: database.url ?? '',
      REDIS_URL: process.env.RGW_TEST_REDIS_URL ?? '',
      RATE_LIMIT_WRITES_PER_MINUTE: '10',
      RATE_LIMIT_READS_PER_MINUTE: '400',
    };
    first = await startTestGateway({ rackUrl: rack.url, rackToken: rack.password, env });
    second = await startTestGateway({ rackUrl: rack.url, rackToken: rack.password, env });
  });

  afterAll(async () => {
    await first.close();
    await second.close();
    await rack.close();
    await database.drop();
  });

  beforeEach(startsFreshRateWindow);

  const restartOn = (gateway: TestGateway, token: string) =>
    fetch(`${gateway.url}/apps/myapp/services/web/restart`, { method: 'POST', headers: { authorization: basicAuth(token) } }).then(
      (response) => response.status,
    );
  const readOn = (gateway: TestGateway, token: string) =>
    fetch(`${gateway.url}/apps`, { headers: { authorization: basicAuth(token) } }).then((response) => response.status);

  it('hold a per-token limit across both instances together, taking turns', async () => {
    const { token } = await first.createUserWithToken('turns@example.com', 'ops');
    const statuses: number[] = [];
    for (let attempt = 0; attempt < 16; attempt += 1) statuses.push(await restartOn(attempt % 2 === 0 ? first : second, token));
    expect(statuses.filter((status) => status === 200)).toHaveLength(10);
    expect(statuses.slice(10)).toEqual([429, 429, 429, 429, 429, 429]);
  });

  it('hold it when both are hit at once', async () => {
    const { token } = await first.createUserWithToken('burst@example.com', 'ops');
    const statuses = await Promise.all(Array.from({ length: 30 }, (_, index) => restartOn(index % 2 === 0 ? first : second, token)));
    expect(statuses.filter((status) => status === 200)).toHaveLength(10);
    expect(statuses.filter((status) => status === 429)).toHaveLength(20);
  });

  it('never admit more than a larger limit, though instances lease permits in batches', async () => {
    const { token } = await first.createUserWithToken('reader@example.com', 'viewer');
    const statuses = await Promise.all(Array.from({ length: 500 }, (_, index) => readOn(index % 2 === 0 ? first : second, token)));
    const admitted = statuses.filter((status) => status === 200).length;
    expect(admitted).toBeLessThanOrEqual(400);
    // What one instance leased and did not use when the other ran out is lost; it is a small share.
    expect(admitted).toBeGreaterThanOrEqual(380);
    expect(statuses.filter((status) => status !== 200 && status !== 429)).toEqual([]);
  });

  it('reports Redis in readiness', async () => {
    const readiness = (await (await fetch(`${second.url}/api/v1/health/ready`)).json()) as { info: Record<string, { status: string }> };
    expect(readiness.info.rateLimitCounters).toEqual({ status: 'up' });
  });
});

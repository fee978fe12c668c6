import { MockRack, startMockRack } from '../support/mock-rack';
import { rawExchange, requestHead } from '../support/raw-exchange';
import { TestGateway, basicAuth, startTestGateway } from '../support/test-gateway';

/**
 * Request smuggling through the gateway's keep-alive pool to the rack: a body the rack would read as a
 * second request, sent on a socket the next caller's request then shares. The rack's journal records
 * every request it parsed, so a smuggled one shows up there as an entry of its own.
 */
describe('request desync on the rack connection pool', () => {
  let rack: MockRack;
  let gateway: TestGateway;
  let viewer: string;

  beforeAll(async () => {
    rack = await startMockRack();
    gateway = await startTestGateway({ rackUrl: rack.url, rackToken: rack.password });
    ({ token: viewer } = await gateway.createUserWithToken('viewer@example.com', 'viewer'));
  });

  afterAll(async () => {
    await gateway.close();
    await rack.close();
  });

  beforeEach(() => rack.reset());

  const smuggled = 'DELETE /apps/myapp HTTP/1.1\r\nHost: rack\r\nContent-Length: 0\r\n\r\n';
  const chunked = (body: string) => `${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`;

  /** What a later, innocent request finds: the rack saw nothing it was not sent, and the app still stands. */
  async function expectNothingSmuggled(): Promise<void> {
    const after = await fetch(`${gateway.url}/apps/myapp`, { headers: { authorization: basicAuth(viewer) } });
    expect(after.status).toBe(200);
    const entries = rack.requests();
    expect(entries.filter((entry) => entry.method === 'DELETE' || entry.path.startsWith('/apps/myapp/releases'))).toEqual([]);
    expect(rack.state().apps.map((app) => app.name)).toContain('myapp');
  }

  it.each([
    ['Connection: content-length', 'Content-Length'],
    ['Connection: Content-Length, close', 'Content-Length'],
    ['Connection: keep-alive, content-length', 'Content-Length'],
  ])('keeps the framing a client names in %s: the rack reads the body as this request’s body', async (connection) => {
    const head = requestHead(gateway.url, 'GET /check HTTP/1.1', [
      `Authorization: ${basicAuth(viewer)}`,
      connection,
      `Content-Length: ${smuggled.length}`,
    ]);
    const exchange = await rawExchange(gateway.url, head + smuggled);
    expect(exchange.statuses[0]).toBe(200);
    const check = rack.requests().filter((entry) => entry.path === '/check');
    expect(check).toHaveLength(1);
    expect(check[0].bodySize).toBe(smuggled.length);
    await expectNothingSmuggled();
  });

  it('keeps Transfer-Encoding when Connection names it: a chunked GET body stays chunked', async () => {
    const head = requestHead(gateway.url, 'GET /check HTTP/1.1', [
      `Authorization: ${basicAuth(viewer)}`,
      'Connection: transfer-encoding',
      'Transfer-Encoding: chunked',
    ]);
    const exchange = await rawExchange(gateway.url, head + chunked(smuggled));
    expect(exchange.statuses[0]).toBe(200);
    expect(rack.requests().find((entry) => entry.path === '/check')?.bodySize).toBe(smuggled.length);
    await expectNothingSmuggled();
  });

  it.each(['OPTIONS', 'DELETE'])(
    'refuses a chunked %s body (http-proxy would send it after Content-Length: 0) before the rack hears of it',
    async (method) => {
      const inner = 'GET /apps/myapp/releases HTTP/1.1\r\nHost: rack\r\n\r\n';
      const head = requestHead(gateway.url, `${method} /check HTTP/1.1`, [
        `Authorization: ${basicAuth(viewer)}`,
        'Transfer-Encoding: chunked',
      ]);
      const exchange = await rawExchange(gateway.url, head + chunked(inner + smuggled));
      expect(exchange.statuses[0]).toBe(400);
      expect(exchange.text).toContain(`a ${method} body must declare its Content-Length`);
      expect(rack.requests()).toEqual([]);
      await expectNothingSmuggled();
    },
  );

  it('forwards a DELETE or OPTIONS body that declares its length, framed by that length', async () => {
    const head = requestHead(gateway.url, 'OPTIONS /check HTTP/1.1', [
      `Authorization: ${basicAuth(viewer)}`,
      `Content-Length: ${smuggled.length}`,
    ]);
    const exchange = await rawExchange(gateway.url, head + smuggled);
    expect(exchange.statuses[0]).toBe(200);
    expect(rack.requests().find((entry) => entry.path === '/check')?.bodySize).toBe(smuggled.length);
    await expectNothingSmuggled();
  });

  it.each([
    ['a coding before chunked', ['Transfer-Encoding: gzip, chunked']],
    ['chunked twice', ['Transfer-Encoding: chunked', 'Transfer-Encoding: chunked']],
    ['chunked then identity', ['Transfer-Encoding: chunked', 'Transfer-Encoding: identity']],
  ])('refuses a Transfer-Encoding the rack would read differently: %s', async (_label, framing) => {
    const head = requestHead(gateway.url, 'POST /check HTTP/1.1', [`Authorization: ${basicAuth(viewer)}`, ...framing]);
    const exchange = await rawExchange(gateway.url, head + chunked(smuggled));
    expect(exchange.statuses[0]).toBe(400);
    expect(rack.requests()).toEqual([]);
    await expectNothingSmuggled();
  });

  it.each([
    ['Content-Length and Transfer-Encoding together', [`Content-Length: 5`, 'Transfer-Encoding: chunked']],
    ['two different Content-Lengths', ['Content-Length: 5', `Content-Length: ${smuggled.length}`]],
    ['a folded Transfer-Encoding', ['Transfer-Encoding:', ' chunked']],
    ['a space before the colon', ['Transfer-Encoding : chunked']],
    ['a bare LF line ending', ['Transfer-Encoding: chunked\nX-Pad: 1']],
  ])('refuses ambiguous framing (%s) with 400, and the rack never hears of it', async (_label, framing) => {
    const head = requestHead(gateway.url, 'POST /check HTTP/1.1', [`Authorization: ${basicAuth(viewer)}`, ...framing]);
    const exchange = await rawExchange(gateway.url, head + chunked(smuggled));
    expect(exchange.statuses[0]).toBe(400);
    expect(rack.requests()).toEqual([]);
    await expectNothingSmuggled();
  });

  it('never lends a rack socket whose upload the client abandoned to the next request', async () => {
    const { token: deployer } = await gateway.createUserWithToken('deployer@example.com', 'deployer');
    const head = requestHead(gateway.url, 'POST /apps/myapp/objects/tmp/abandoned.tgz HTTP/1.1', [
      `Authorization: ${basicAuth(deployer)}`,
      'Content-Length: 1000000',
    ]);
    // Half a body that reads like a request, then the client vanishes.
    await rawExchange(gateway.url, head + smuggled + 'x'.repeat(10_000), 300);
    await expectNothingSmuggled();
    const upload = rack.requests().find((entry) => entry.path === '/apps/myapp/objects/tmp/abandoned.tgz');
    expect(upload?.bodyComplete).toBe(false);
  });
});

import { request } from 'node:http';
import { MockRack, startMockRack } from '../support/mock-rack';
import { rawExchange, requestHead } from '../support/raw-exchange';
import { TestGateway, basicAuth, startTestGateway } from '../support/test-gateway';

/** Headers a client could use to pose as someone, somewhere or some method the gateway did not check. */
const SPOOFED: Record<string, string> = {
  'x-forwarded-for': '10.0.0.1',
  'x-forwarded-host': 'rack.internal',
  'x-forwarded-proto': 'https',
  'x-forwarded-prefix': '/admin',
  forwarded: 'for=10.0.0.1;host=rack.internal;proto=https',
  'x-real-ip': '10.0.0.1',
  'x-client-ip': '10.0.0.1',
  'x-http-method-override': 'DELETE',
  'x-method-override': 'DELETE',
  'x-http-method': 'DELETE',
  'convox-actor': 'admin@example.com',
  'x-convox-actor': 'admin@example.com',
  'convox-tid': 'other-tenant',
  cookie: 'rgw_session=stolen',
};

/** Reads on until the server hangs up, to see whether it does. */
const untilClosed = () => false;

/** A GET with `Expect: 100-continue`, on a connection of its own; resolves with the final and any 1xx statuses. */
function getExpectingContinue(url: string, authorization: string): Promise<{ status: number; informational: number[] }> {
  return new Promise((resolve, reject) => {
    const informational: number[] = [];
    const outgoing = request(url, { agent: false, headers: { authorization, expect: '100-continue' } }, (response) => {
      response.resume();
      response.once('end', () => resolve({ status: response.statusCode ?? 0, informational }));
      response.once('error', reject);
    });
    outgoing.on('information', (info: { statusCode: number }) => informational.push(info.statusCode));
    outgoing.once('error', reject);
    outgoing.end();
  });
}

/**
 * The gateway forwards a request with its own credential and the authenticated user as the rack's audit
 * actor. Nothing a client adds may change who the rack thinks is asking, from where, with which method,
 * or switch the connection to a protocol the gateway does not inspect.
 */
describe('spoofed and protocol-switching headers', () => {
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

  /** A later, ordinary request still works, and the rack has seen only it. */
  async function expectRackUntouched(): Promise<void> {
    expect(rack.requests()).toEqual([]);
    const after = await fetch(`${gateway.url}/apps`, { headers: { authorization: basicAuth(viewer) } });
    expect(after.status).toBe(200);
    expect(rack.requests().map((entry) => `${entry.method} ${entry.path}`)).toEqual(['GET /apps']);
  }

  it('lists apps for a viewer who adds forwarding, actor, tenant, method-override and cookie headers; the rack sees none', async () => {
    const response = await fetch(`${gateway.url}/apps`, { headers: { authorization: basicAuth(viewer), ...SPOOFED } });
    expect(response.status).toBe(200);
    expect(((await response.json()) as Array<{ name: string }>).map((app) => app.name).sort()).toEqual(['myapp', 'otherapp']);

    const entries = rack.requests();
    expect(entries).toHaveLength(1);
    const [seen] = entries;
    expect(seen.method).toBe('GET');
    expect(seen.path).toBe('/apps');
    expect(Object.keys(seen.headers).filter((name) => name in SPOOFED && name !== 'convox-actor')).toEqual([]);
    expect(Object.keys(seen.headers).filter((name) => name.startsWith('x-forwarded-'))).toEqual([]);
    expect(seen.headers.authorization).toBe(basicAuth(rack.password));
    expect(seen.headers['convox-actor']).toBe('viewer@example.com');
    expect(seen.actor).toBe('viewer@example.com');
    expect(seen.authenticated).toBe(true);
  });

  it('answers an h2c upgrade with 400 and closes the connection; the request pipelined behind it never runs', async () => {
    const upgrade = requestHead(gateway.url, 'GET /apps HTTP/1.1', [
      `Authorization: ${basicAuth(viewer)}`,
      'Connection: Upgrade, HTTP2-Settings',
      'Upgrade: h2c',
      'HTTP2-Settings: AAMAAABkAAQAAP__',
    ]);
    // A request the viewer may make, so the rack would record it had the gateway read past the upgrade.
    const behind = requestHead(gateway.url, 'GET /apps/myapp/releases HTTP/1.1', [`Authorization: ${basicAuth(viewer)}`]);
    const exchange = await rawExchange(gateway.url, upgrade + behind, 1_500, untilClosed);
    expect(exchange.statuses).toEqual([400]);
    expect(exchange.closedByServer).toBe(true);
    await expectRackUntouched();
  });

  it('answers an h2c upgrade naming only Upgrade in Connection with 400 too', async () => {
    const exchange = await rawExchange(
      gateway.url,
      requestHead(gateway.url, 'GET /apps HTTP/1.1', [
        `Authorization: ${basicAuth(viewer)}`,
        'Connection: Upgrade',
        'Upgrade: h2c',
        'HTTP2-Settings: AAMAAABkAAQAAP__',
      ]),
      1_500,
      untilClosed,
    );
    expect(exchange.statuses).toEqual([400]);
    expect(exchange.closedByServer).toBe(true);
    await expectRackUntouched();
  });

  /** A websocket handshake for the app's log stream, which a viewer may open. */
  const logsHandshake = (method: string, upgrade: string) =>
    requestHead(gateway.url, `${method} /apps/myapp/logs?follow=false HTTP/1.1`, [
      `Authorization: ${basicAuth(viewer)}`,
      'Connection: Upgrade',
      `Upgrade: ${upgrade}`,
      'Sec-WebSocket-Version: 13',
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
      ...(method === 'GET' ? [] : ['Content-Length: 0']),
    ]);

  it('answers a websocket upgrade on POST with 400 and closes; the rack hears nothing', async () => {
    const exchange = await rawExchange(gateway.url, logsHandshake('POST', 'websocket'), 1_500, untilClosed);
    expect(exchange.statuses).toEqual([400]);
    expect(exchange.closedByServer).toBe(true);
    await expectRackUntouched();
  });

  it('refuses an upgrade offering websocket and h2c together with 400; the rack hears nothing', async () => {
    const exchange = await rawExchange(gateway.url, logsHandshake('GET', 'websocket, h2c'), 1_500, untilClosed);
    expect(exchange.statuses).toEqual([400]);
    expect(exchange.closedByServer).toBe(true);
    await expectRackUntouched();
  });

  it('accepts the same handshake offering websocket alone, so the refusals above are about the protocol', async () => {
    const exchange = await rawExchange(gateway.url, logsHandshake('GET', 'websocket'), 500, untilClosed);
    expect(exchange.statuses[0]).toBe(101);
    expect(rack.requests().filter((entry) => entry.method === 'SOCKET')).toHaveLength(1);
  });

  it("honours a client's Connection: close: the answer says close and the gateway hangs up", async () => {
    const head = requestHead(gateway.url, 'GET /apps HTTP/1.1', [`Authorization: ${basicAuth(viewer)}`, 'Connection: close']);
    const exchange = await rawExchange(gateway.url, head, 1_500, untilClosed);
    expect(exchange.statuses).toEqual([200]);
    expect(exchange.text).toMatch(/\r\nconnection: close\r\n/i);
    expect(exchange.closedByServer).toBe(true);
  });

  it('answers a GET sent with Expect: 100-continue; the rack sees no Expect header', async () => {
    const { status, informational } = await getExpectingContinue(`${gateway.url}/apps`, basicAuth(viewer));
    expect(status).toBe(200);
    expect(informational.every((code) => code === 100)).toBe(true);
    const entries = rack.requests();
    expect(entries).toHaveLength(1);
    expect(entries[0].method).toBe('GET');
    expect(entries[0].headers.expect).toBeUndefined();
  });
});

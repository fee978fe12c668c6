import { MockRack, startMockRack } from '../support/mock-rack';
import { rawExchange, requestHead } from '../support/raw-exchange';
import { TestGateway, basicAuth, startTestGateway, firstProcessId } from '../support/test-gateway';

/**
 * The rack's router matches Go's decoded path, uncleaned. Each target below was, or is a variant of,
 * one the gateway once authorized as one route while the rack ran another. All must be refused with
 * 400 before the rack hears of them, over HTTP and websockets alike.
 */
describe('path confusion between the gateway and the rack router', () => {
  let rack: MockRack;
  let gateway: TestGateway;
  let viewer: string;
  let pid: string;

  beforeAll(async () => {
    rack = await startMockRack();
    gateway = await startTestGateway({ rackUrl: rack.url, rackToken: rack.password });
    ({ token: viewer } = await gateway.createUserWithToken('viewer@example.com', 'viewer'));
    pid = await firstProcessId(gateway.url, viewer);
  });

  afterAll(async () => {
    await gateway.close();
    await rack.close();
  });

  beforeEach(() => rack.reset());

  const hostileTargets = (): Array<[string, string]> => [
    ['a backslash turning logs into exec', `/apps/myapp/processes/${pid}\\exec#/logs`],
    ['a backslash reaching the files route', `/apps/myapp/processes/${pid}\\files?file=/etc/shadow`],
    ['an encoded slash reaching the files route', `/apps/myapp/processes/${pid}%2Ffiles?file=/etc/shadow`],
    ['a lower-case encoded slash', `/apps/myapp/processes/${pid}%2ffiles`],
    ['an encoded backslash', `/apps/myapp/processes/${pid}%5Cfiles`],
    ['a fragment hiding the rest of the path', `/apps/myapp/processes/${pid}#/../files`],
    ['dot-dot segments', '/apps/myapp/../otherapp/releases'],
    ['encoded dot-dot segments', '/apps/myapp/%2e%2e/otherapp/releases'],
    ['a dot segment', '/apps/myapp/./releases'],
    ['an empty segment', '/apps//myapp/releases'],
    ['a leading double slash', '//apps/myapp/releases'],
    ['a double-encoded slash', `/apps/myapp/processes/${pid}%252Ffiles`],
    ['an encoded NUL', '/apps/myapp%00/releases'],
    ['an encoded question mark', `/apps/myapp/processes/${pid}%3F/files`],
    ['an encoded fragment', `/apps/myapp/processes/${pid}%23/files`],
    ['a malformed escape', '/apps/my%zzapp/releases'],
    ['overlong UTF-8 for a slash', `/apps/myapp/processes/${pid}%C0%AFfiles`],
    ['raw non-ASCII bytes', '/apps/myäpp/releases'],
    ['encoded non-ASCII', '/apps/my%C3%A4pp/releases'],
    ['a scheme inside the path', '/apps/myapp/objects/http:/x'],
    ['a quote character', '/apps/myapp"/releases'],
  ];

  it('refuses every hostile target over HTTP with 400 in the rack error shape; the rack hears nothing', async () => {
    for (const [label, target] of hostileTargets()) {
      const head = requestHead(gateway.url, `GET ${target} HTTP/1.1`, [`Authorization: ${basicAuth(viewer)}`]);
      const exchange = await rawExchange(gateway.url, Buffer.from(head, 'utf8'));
      expect(`${label}: ${exchange.statuses[0]}`).toBe(`${label}: 400`);
      expect(rack.requests()).toEqual([]);
    }
  });

  it('refuses every hostile target as a websocket with the ERROR frame; the rack hears nothing', async () => {
    for (const [label, target] of hostileTargets()) {
      const head = requestHead(gateway.url, `GET ${target} HTTP/1.1`, [
        `Authorization: ${basicAuth(viewer)}`,
        'Connection: Upgrade',
        'Upgrade: websocket',
        'Sec-WebSocket-Version: 13',
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
      ]);
      const exchange = await rawExchange(gateway.url, Buffer.from(head, 'utf8'), 1_000, (text) => text.includes('ERROR: '));
      // Node itself refuses some targets (400) before the gateway sees them; the rest get the rack-style refusal.
      const refused =
        exchange.statuses[0] === 400 || (exchange.statuses[0] === 101 && exchange.text.includes('ERROR: invalid request target'));
      expect(`${label}: ${refused}`).toBe(`${label}: true`);
      expect(rack.requests()).toEqual([]);
    }
  });

  it('refuses absolute-form and asterisk targets, which name a host or no path at all', async () => {
    for (const requestLine of [`GET ${rack.url}/apps HTTP/1.1`, 'GET http://evil.example/apps HTTP/1.1', 'OPTIONS * HTTP/1.1']) {
      const exchange = await rawExchange(gateway.url, requestHead(gateway.url, requestLine, [`Authorization: ${basicAuth(viewer)}`]));
      expect(`${requestLine}: ${exchange.statuses[0]}`).toBe(`${requestLine}: 400`);
    }
    expect(rack.requests()).toEqual([]);
  });

  it('names the reason, so the convox CLI prints it', async () => {
    const response = await fetch(`${gateway.url}/apps/myapp/processes/${pid}%2Ffiles`, { headers: { authorization: basicAuth(viewer) } });
    expect(response.status).toBe(400);
    expect(await response.text()).toBe('invalid request target: the path holds an encoded character the gateway does not accept\n');
  });

  it('decides on the decoded path and forwards exactly that path, so harmless escapes still work', async () => {
    const response = await fetch(`${gateway.url}/apps/my%61pp/releases?limit=1`, { headers: { authorization: basicAuth(viewer) } });
    expect(response.status).toBe(200);
    const [entry] = rack.requests();
    expect(entry.path).toBe('/apps/myapp/releases');
    expect(entry.query).toBe('limit=1');
    expect(entry.route).toBe('GET /apps/{app}/releases');
  });

  it('keeps the query exactly as sent, including the empty one the CLI always sends', async () => {
    await fetch(`${gateway.url}/apps?`, { headers: { authorization: basicAuth(viewer) } });
    await fetch(`${gateway.url}/apps/myapp/releases?limit=2&a=%2F&b=%zz;c`, { headers: { authorization: basicAuth(viewer) } });
    expect(rack.requests().map((entry) => [entry.path, entry.query])).toEqual([
      ['/apps', ''],
      ['/apps/myapp/releases', 'limit=2&a=%2F&b=%zz;c'],
    ]);
  });
});

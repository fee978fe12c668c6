import type { Subscription } from 'rxjs';
import WebSocket from 'ws';
import type { RackExchangeOutcome } from '../../src/proxy/rack-exchange';
import { RackExchanges } from '../../src/proxy/rack-exchanges.service';
import { MockRack, startMockRack } from '../support/mock-rack';
import { TestGateway, basicAuth, startTestGateway, firstProcessId } from '../support/test-gateway';
import { RackSocket } from '../support/websocket-client';

/** How every forwarded exchange ended is published in one place, though the proxy hijacks the reply. */
describe('exchange outcomes', () => {
  let rack: MockRack;
  let gateway: TestGateway;
  let admin: string;
  let subscription: Subscription;
  const outcomes: RackExchangeOutcome[] = [];

  beforeAll(async () => {
    rack = await startMockRack();
    gateway = await startTestGateway({ rackUrl: rack.url, rackToken: rack.password });
    ({ token: admin } = await gateway.createUserWithToken('admin@example.com', 'admin'));
    subscription = gateway.app.get(RackExchanges).outcomes.subscribe((outcome) => outcomes.push(outcome));
  });

  afterAll(async () => {
    subscription.unsubscribe();
    await gateway.close();
    await rack.close();
  });

  beforeEach(() => {
    rack.reset();
    outcomes.length = 0;
  });

  /** The outcome is published when the client's side closes, a moment after the client has its answer. */
  async function nextOutcome(): Promise<RackExchangeOutcome> {
    for (let attempt = 0; attempt < 300 && outcomes.length === 0; attempt += 1) await new Promise((resolve) => setTimeout(resolve, 10));
    return outcomes[0];
  }

  it('reports an HTTP exchange: who, which route, status, bytes each way and duration', async () => {
    const response = await fetch(`${gateway.url}/apps`, { headers: { authorization: basicAuth(admin) } });
    const body = Buffer.from(await response.arrayBuffer());
    const outcome = await nextOutcome();
    expect(outcome).toMatchObject({
      transport: 'http',
      method: 'GET',
      path: '/apps',
      status: 200,
      bytesIn: 0,
      bytesOut: body.length,
      completed: true,
    });
    expect(outcome.principal.user.email).toBe('admin@example.com');
    expect(outcome.decision.route.path).toBe('/apps');
    expect(outcome.durationMs).toBeGreaterThan(0);
  });

  it('counts an upload streamed to the rack', async () => {
    const payload = Buffer.alloc(300_000, 7);
    const response = await fetch(`${gateway.url}/apps/myapp/objects/tmp/outcome.tgz`, {
      method: 'POST',
      headers: { authorization: basicAuth(admin) },
      body: payload,
    });
    expect(response.status).toBe(200);
    await response.arrayBuffer();
    expect(await nextOutcome()).toMatchObject({ method: 'POST', status: 200, bytesIn: payload.length, completed: true });
  });

  it('reports the rack’s own failure status', async () => {
    rack.injectFault({ method: 'GET', path: '/apps/myapp', status: 500, body: 'boom' });
    await (await fetch(`${gateway.url}/apps/myapp`, { headers: { authorization: basicAuth(admin) } })).text();
    expect(await nextOutcome()).toMatchObject({ path: '/apps/myapp', status: 500 });
  });

  it('reports an exec session with its exit code', async () => {
    const processId = await firstProcessId(gateway.url, admin);
    outcomes.length = 0;
    const socket = await RackSocket.open(`${gateway.url}/apps/myapp/processes/${processId}/exec`, {
      authorization: basicAuth(admin),
      command: 'echo hello; exit 7',
    });
    await socket.untilEnd();
    socket.close();
    const outcome = await nextOutcome();
    expect(outcome).toMatchObject({ transport: 'websocket', method: 'SOCKET', status: 101, exitCode: 7, completed: true });
    expect(outcome.bytesOut).toBeGreaterThan('hello\n'.length);
  });

  it('reports the close code of a websocket the client closed', async () => {
    const socket = new WebSocket(`${gateway.url.replace('http', 'ws')}/apps/myapp/logs`, {
      headers: { authorization: basicAuth(admin), follow: 'true' },
      perMessageDeflate: false,
    });
    await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
    socket.close(4001, 'done');
    const outcome = await nextOutcome();
    expect(outcome).toMatchObject({ transport: 'websocket', status: 101, closeCode: 4001 });
    expect(outcome.bytesIn).toBeGreaterThan(0);
  });

  it('reports a websocket the rack refused with the rack’s status', async () => {
    rack.injectFault({ method: 'SOCKET', path: '/apps/{app}/logs', status: 403, body: 'no' });
    const socket = await RackSocket.open(`${gateway.url}/apps/myapp/logs`, { authorization: basicAuth(admin) }).catch(() => undefined);
    socket?.close();
    expect(await nextOutcome()).toMatchObject({ transport: 'websocket', status: 403, completed: false });
  });
});

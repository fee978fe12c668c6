import { connect, type Socket } from 'node:net';
import { MockRack, startMockRack } from '../support/mock-rack';
import { TestGateway, basicAuth, startTestGateway, firstProcessId } from '../support/test-gateway';
import { RackSocket } from '../support/websocket-client';

/** Opens a raw websocket handshake and leaves the socket open, as a client that never hangs up would. */
function openHandshake(url: string, path: string, headers: string[]): Promise<Socket> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => {
      socket.write(
        [
          `GET ${path} HTTP/1.1`,
          `Host: ${hostname}:${port}`,
          'Connection: Upgrade',
          'Upgrade: websocket',
          'Sec-WebSocket-Version: 13',
          'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
          ...headers,
          '',
          '',
        ].join('\r\n'),
      );
      resolve(socket);
    });
    socket.on('error', () => socket.destroy());
    socket.once('error', reject);
  });
}

function openConnections(gateway: TestGateway): Promise<number> {
  const server = gateway.app.getHttpServer();
  return new Promise((resolve, reject) => server.getConnections((error, count) => (error ? reject(error) : resolve(count))));
}

async function eventually(read: () => Promise<number>, expected: number, withinMs: number): Promise<number> {
  const deadline = Date.now() + withinMs;
  let value = await read();
  while (value !== expected && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    value = await read();
  }
  return value;
}

/** Refused upgrades must not leave sockets behind, and open sessions must not hold shutdown. */
describe('websocket upgrades the gateway or the rack refuses', () => {
  let rack: MockRack;
  let gateway: TestGateway;
  let viewer: string;
  const clients: Socket[] = [];

  beforeAll(async () => {
    rack = await startMockRack();
    gateway = await startTestGateway({ rackUrl: rack.url, rackToken: rack.password });
    ({ token: viewer } = await gateway.createUserWithToken('viewer@example.com', 'viewer'));
  });

  afterEach(() => {
    for (const client of clients.splice(0)) client.destroy();
    rack.clearFaults();
  });

  afterAll(async () => {
    await gateway.close();
    await rack.close();
  });

  it.each([
    ['to a gateway path', '/api/v1/users', [] as string[]],
    ['without a credential', '/apps/myapp/logs', []],
    ['that the caller may not open (exec as a viewer)', '/apps/myapp/processes/p1/exec', ['Authorization: BASIC']],
    ['with an unreadable target', '/apps/myapp/processes/p1%2Fexec', ['Authorization: BASIC']],
    ['that the rack refuses (403)', '/apps/myapp/logs', ['Authorization: BASIC']],
  ])('closes every socket of 100 upgrades %s, though the clients never hang up', async (label, path, headers) => {
    if (label.includes('rack refuses')) rack.injectFault({ method: 'SOCKET', path: '/apps/{app}/logs', status: 403, body: 'forbidden' });
    const authorized = headers.map((header) => header.replace('BASIC', basicAuth(viewer)));
    for (let index = 0; index < 100; index += 1) clients.push(await openHandshake(gateway.url, path, authorized));
    expect(await eventually(() => openConnections(gateway), 0, 5_000)).toBe(0);
  });

  it('finishes shutting down while exec sessions and followed log streams are open', async () => {
    const other = await startTestGateway({ rackUrl: rack.url, rackToken: rack.password });
    const { token: ops } = await other.createUserWithToken('ops@example.com', 'ops');
    const processId = await firstProcessId(other.url, ops);
    const exec = await RackSocket.open(`${other.url}/apps/myapp/processes/${processId}/exec`, {
      authorization: basicAuth(ops),
      command: 'sleep 600',
    });
    const logs = await RackSocket.open(`${other.url}/apps/myapp/logs?follow=true`, { authorization: basicAuth(ops), follow: 'true' });
    const started = Date.now();
    await other.close();
    expect(Date.now() - started).toBeLessThan(5_000);
    await Promise.all([exec.untilEnd(), logs.untilEnd()]);
  });
});

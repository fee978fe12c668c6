import { createHash, randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { REQUEST_HEAD_CHECK_INTERVAL_MS, REQUEST_HEAD_TIMEOUT_MS } from '../../src/bootstrap';
import { MockRack, startMockRack } from '../support/mock-rack';
import { TestGateway, basicAuth, startTestGateway, firstProcessId } from '../support/test-gateway';
import { RackSocket } from '../support/websocket-client';

/** Short, so the keep-alive test waits seconds; the head timeout is tested at its real 30 s. */
const KEEP_ALIVE_SECONDS = 2;
/** Node closes an idle keep-alive connection this long after the advertised timeout (_http_server.js). */
const NODE_KEEP_ALIVE_GRACE_MS = 1_000;
/** Timers fire late on a busy 2-core machine; never early. */
const SCHEDULING_SLACK_MS = 3_000;
/** Long enough for every test here, which run side by side so the suite waits about 35 s once. */
const WAITING_TEST_TIMEOUT_MS = REQUEST_HEAD_TIMEOUT_MS + 25_000;

interface RawConnection {
  readonly socket: Socket;
  /** Everything the gateway sent, as latin1 text. */
  received(): string;
  /** Resolves when the gateway closes the connection, with the time of closing (performance.now()). */
  readonly closed: Promise<number>;
}

/** A bare TCP connection to the gateway, to send exactly the bytes a slow or idle client would. */
function openRawConnection(url: string): Promise<RawConnection> {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  // The gateway may reset a connection it drops; only when it closes matters here.
  socket.on('error', () => undefined);
  const closed = new Promise<number>((resolve) => socket.once('close', () => resolve(performance.now())));
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve({ socket, received: () => Buffer.concat(chunks).toString('latin1'), closed }));
    socket.once('error', reject);
  });
}

/** Waits until a whole response (head and Content-Length body) has arrived on the connection. */
async function responseComplete(connection: RawConnection): Promise<void> {
  for (;;) {
    const text = connection.received();
    const headEnd = text.indexOf('\r\n\r\n');
    const length = /\r\ncontent-length: *(\d+)/i.exec(text)?.[1];
    if (headEnd >= 0 && length !== undefined && text.length >= headEnd + 4 + Number(length)) return;
    await sleep(10);
  }
}

describe('slow and idle clients', () => {
  let rack: MockRack;
  let gateway: TestGateway;
  let deployer: string;

  beforeAll(async () => {
    rack = await startMockRack();
    gateway = await startTestGateway({
      rackUrl: rack.url,
      rackToken: rack.password,
      env: { CLIENT_KEEP_ALIVE_SECONDS: String(KEEP_ALIVE_SECONDS) },
    });
    ({ token: deployer } = await gateway.createUserWithToken('deployer@example.com', 'deployer'));
  });

  afterAll(async () => {
    await gateway.close();
    await rack.close();
  });

  // Concurrent: each waits out the real 30 s head timeout, and serially they would take minutes.
  it.concurrent(
    'drops a client still trickling its request head 30 s after its first byte, before the rack sees it',
    async () => {
      const connection = await openRawConnection(gateway.url);
      const head = `GET /apps/trickled/processes HTTP/1.1\r\nHost: gateway\r\nAuthorization: ${basicAuth(deployer)}\r\n\r\n`;
      const firstByteAt = performance.now();
      let sent = 0;
      connection.socket.write(head[sent++]);
      const trickle = setInterval(() => {
        if (connection.socket.writable && sent < head.length) connection.socket.write(head[sent++]);
      }, 1_000);
      const closedAt = await connection.closed;
      clearInterval(trickle);

      expect(sent).toBeLessThan(head.length);
      expect(connection.received()).toMatch(/^HTTP\/1\.1 408 /);
      expect(closedAt - firstByteAt).toBeGreaterThanOrEqual(REQUEST_HEAD_TIMEOUT_MS);
      expect(closedAt - firstByteAt).toBeLessThan(REQUEST_HEAD_TIMEOUT_MS + REQUEST_HEAD_CHECK_INTERVAL_MS + SCHEDULING_SLACK_MS);
      expect(rack.requests().filter((entry) => entry.path.startsWith('/apps/trickled'))).toEqual([]);
    },
    WAITING_TEST_TIMEOUT_MS,
  );

  it.concurrent(
    'closes a connection that sends nothing at all within the head timeout',
    async () => {
      const connection = await openRawConnection(gateway.url);
      const connectedAt = performance.now();
      const closedAt = await connection.closed;

      expect(connection.received()).toMatch(/^HTTP\/1\.1 408 /);
      expect(closedAt - connectedAt).toBeGreaterThanOrEqual(REQUEST_HEAD_TIMEOUT_MS - SCHEDULING_SLACK_MS);
      expect(closedAt - connectedAt).toBeLessThan(REQUEST_HEAD_TIMEOUT_MS + REQUEST_HEAD_CHECK_INTERVAL_MS + SCHEDULING_SLACK_MS);
    },
    WAITING_TEST_TIMEOUT_MS,
  );

  it.concurrent(
    'closes a keep-alive connection left idle after an answer once CLIENT_KEEP_ALIVE_SECONDS pass',
    async () => {
      const connection = await openRawConnection(gateway.url);
      connection.socket.write('GET /api/v1/health/live HTTP/1.1\r\nHost: gateway\r\n\r\n');
      await responseComplete(connection);
      const answeredAt = performance.now();
      const closedAt = await connection.closed;

      expect(connection.received()).toMatch(/^HTTP\/1\.1 200 /);
      expect(connection.received()).toMatch(new RegExp(`\r\nkeep-alive: timeout=${KEEP_ALIVE_SECONDS}\r\n`, 'i'));
      expect(closedAt - answeredAt).toBeGreaterThanOrEqual(KEEP_ALIVE_SECONDS * 1000);
      expect(closedAt - answeredAt).toBeLessThan(KEEP_ALIVE_SECONDS * 1000 + NODE_KEEP_ALIVE_GRACE_MS + SCHEDULING_SLACK_MS);
    },
    WAITING_TEST_TIMEOUT_MS,
  );

  it.concurrent(
    'lets an upload run past the head timeout while its body keeps flowing, and the rack gets every byte',
    async () => {
      const chunks = Array.from({ length: REQUEST_HEAD_TIMEOUT_MS / 1000 + 5 }, () => randomBytes(1024));
      const body = Buffer.concat(chunks);
      const key = `tmp/${randomBytes(15).toString('hex')}.tgz`;
      const connection = await openRawConnection(gateway.url);
      connection.socket.write(
        `POST /apps/myapp/objects/${key} HTTP/1.1\r\nHost: gateway\r\nAuthorization: ${basicAuth(deployer)}\r\n` +
          `Content-Type: application/octet-stream\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`,
      );
      const startedAt = performance.now();
      for (const chunk of chunks) {
        connection.socket.write(chunk);
        await sleep(1_000);
      }
      await connection.closed;

      expect(performance.now() - startedAt).toBeGreaterThan(REQUEST_HEAD_TIMEOUT_MS + REQUEST_HEAD_CHECK_INTERVAL_MS);
      expect(connection.received()).toMatch(/^HTTP\/1\.1 200 /);
      const upload = rack.requests().find((entry) => entry.path === `/apps/myapp/objects/${key}`);
      expect(upload).toMatchObject({ method: 'POST', status: 200, bodyComplete: true, bodySize: body.length });
      expect(upload?.bodySha256).toBe(createHash('sha256').update(body).digest('hex'));
    },
    WAITING_TEST_TIMEOUT_MS,
  );

  it.concurrent(
    'never cuts an exec websocket that sits silent past the head and keep-alive timeouts',
    async () => {
      const processId = await firstProcessId(gateway.url, deployer);
      const socket = await RackSocket.open(`${gateway.url}/apps/myapp/processes/${processId}/exec`, {
        authorization: basicAuth(deployer),
        command: 'cat',
        tty: 'false',
        origin: gateway.url,
      });
      await sleep(REQUEST_HEAD_TIMEOUT_MS + REQUEST_HEAD_CHECK_INTERVAL_MS + SCHEDULING_SLACK_MS);
      socket.send('still here\n');
      socket.sendEof();
      await socket.untilEnd();
      socket.close();

      expect(socket.output().toString('latin1')).toContain('still here\n');
    },
    WAITING_TEST_TIMEOUT_MS,
  );
});

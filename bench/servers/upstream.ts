import { IncomingMessage, ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import { serveUntilStopped } from '../lib/child-protocol';

/**
 * A fast stand-in for the rack API, so the bench measures the proxies and not the upstream: no journal,
 * no state, nothing allocated per request beyond what node:http does. (The test suite's mock rack is
 * faithful, not fast.)
 *
 *   GET /apps                          a fixed 120-byte JSON app list
 *   POST|PUT anything                  drains and counts the body, answers {"bytes":N}
 *   ws /apps/<a>/processes/<p>/exec    ?bytes=N: N bytes in 64 KiB text frames, exit marker, EOF frame
 *   ws /apps/<a>/logs                  one log line, then held open until the client leaves
 */
const APPS_BODY = Buffer.from(
  `${JSON.stringify([{ name: 'web', generation: '2', locked: false, release: 'RABCDEFGHIJ', router: 'router.rack.test', status: 'running' }])}\n`,
);
const EXEC_FRAME_BYTES = 64 * 1024;
const EXEC_FRAME = Buffer.alloc(EXEC_FRAME_BYTES, 'rack exec stream 0123456789abcdefghijklmnopqrstuvwxyz\n');
const EXIT_FRAME = Buffer.from('F1E49A85-0AD7-4AEF-A618-C249C6E6568D:0\n');
/** Frames handed to ws before waiting for one to reach the socket: enough to keep loopback busy. */
const FRAMES_IN_FLIGHT = 16;
const EXEC_ROUTE = /^\/apps\/[^/]+\/processes\/[^/]+\/exec$/;
const LOGS_ROUTE = /^\/apps\/[^/]+\/logs$/;

function handleRequest(request: IncomingMessage, response: ServerResponse): void {
  if (request.method === 'GET' && request.url === '/apps') {
    response.writeHead(200, { 'content-type': 'application/json', 'content-length': APPS_BODY.length });
    response.end(APPS_BODY);
    return;
  }
  if (request.method === 'POST' || request.method === 'PUT') {
    let bytes = 0;
    request.on('data', (chunk: Buffer) => (bytes += chunk.length));
    request.on('end', () => {
      const body = JSON.stringify({ bytes });
      response.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      response.end(body);
    });
    return;
  }
  if (request.url === '/check') {
    response.writeHead(200, { 'content-type': 'text/plain', 'content-length': 2 });
    response.end('ok');
    return;
  }
  response.writeHead(404, { 'content-type': 'text/plain', 'content-length': 10 });
  response.end('not found\n');
}

function streamExec(websocket: WebSocket, totalBytes: number): void {
  let remaining = totalBytes;
  let inFlight = 0;
  let finished = false;
  const pump = () => {
    while (inFlight < FRAMES_IN_FLIGHT && remaining > 0) {
      const size = Math.min(remaining, EXEC_FRAME_BYTES);
      remaining -= size;
      inFlight += 1;
      websocket.send(size === EXEC_FRAME_BYTES ? EXEC_FRAME : EXEC_FRAME.subarray(0, size), { binary: false }, afterSend);
    }
    if (remaining === 0 && inFlight === 0 && !finished) {
      finished = true;
      websocket.send(EXIT_FRAME, { binary: false });
      websocket.send(Buffer.alloc(0), { binary: true });
      websocket.close(1000);
    }
  };
  const afterSend = (error?: Error) => {
    inFlight -= 1;
    if (error) {
      websocket.terminate();
      return;
    }
    pump();
  };
  pump();
}

function main(): void {
  const sockets = new WebSocketServer({ noServer: true, perMessageDeflate: false, skipUTF8Validation: true, maxPayload: 0 });
  const server = createServer(handleRequest);
  // Like the rack: idle keep-alive sockets live long, so pooled proxy sockets are never reset mid-run.
  server.keepAliveTimeout = 120_000;
  server.headersTimeout = 0;
  server.requestTimeout = 0;

  server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    const url = new URL(request.url ?? '/', 'http://upstream');
    if (EXEC_ROUTE.test(url.pathname)) {
      const bytes = Number(url.searchParams.get('bytes') ?? 0);
      sockets.handleUpgrade(request, socket, head, (websocket) => streamExec(websocket, bytes));
      return;
    }
    if (LOGS_ROUTE.test(url.pathname)) {
      sockets.handleUpgrade(request, socket, head, (websocket) => {
        websocket.on('error', () => websocket.terminate());
        websocket.send('2026-01-01T00:00:00Z service/web/0123456789 bench log stream open\n');
      });
      return;
    }
    socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
  });

  server.listen(0, '127.0.0.1', () => {
    const { port } = server.address() as AddressInfo;
    serveUntilStopped({ kind: 'ready', port }, async () => {
      for (const client of sockets.clients) client.terminate();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });
  });
}

main();

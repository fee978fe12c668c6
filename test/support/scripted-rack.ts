import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * Why this exists next to the mock rack: the mock rack (./mock-rack) answers like a real rack, which is
 * what most tests want. Security tests need answers no sane rack gives: a body far past the gateway's
 * limits, an endless stream, a lying Content-Length, a dropped connection, the rack password echoed in
 * a header. Here each test scripts the answer itself, and the log records what the rack end saw,
 * including when the gateway hung up on it.
 */

export type ScriptedHandler = (request: IncomingMessage, response: ServerResponse) => void;

export interface ScriptedClose {
  /** performance.now() when the answer's stream closed. */
  readonly at: number;
  /** Whether the whole answer had been handed to the socket by then; false means the gateway hung up first. */
  readonly answerFinished: boolean;
}

export interface ScriptedRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  /** The gateway's port for this connection: a different one means a different socket. */
  readonly remotePort: number;
  readonly receivedAt: number;
  /** Resolves when the request stream closes (body read, or connection gone). */
  readonly requestClosed: Promise<number>;
  /** Resolves when the answer's stream closes, finished or cut. */
  readonly responseClosed: Promise<ScriptedClose>;
}

export interface ScriptedRack {
  readonly url: string;
  /** Every request received, refused ones included, oldest first. */
  readonly requests: readonly ScriptedRequest[];
  /** Answers every authorized request from now on. */
  setHandler(handler: ScriptedHandler): void;
  /** Clears the log and the handler (unscripted requests get an empty 404). */
  reset(): void;
  /** Destroys every socket, open streams included, and stops listening. */
  close(): Promise<void>;
}

const unscripted: ScriptedHandler = (_request, response) => response.writeHead(404, { 'content-length': '0' }).end();

/** Starts a scripted rack on 127.0.0.1 that, like a rack, accepts Basic auth with any user and `password`. */
export async function startScriptedRack(password: string): Promise<ScriptedRack> {
  const requests: ScriptedRequest[] = [];
  const sockets = new Set<Socket>();
  let handler = unscripted;

  const server = createServer((request, response) => {
    requests.push({
      method: request.method ?? '',
      url: request.url ?? '',
      headers: request.headers,
      remotePort: request.socket.remotePort ?? 0,
      receivedAt: performance.now(),
      requestClosed: new Promise((resolve) => request.once('close', () => resolve(performance.now()))),
      responseClosed: new Promise((resolve) =>
        response.once('close', () => resolve({ at: performance.now(), answerFinished: response.writableFinished })),
      ),
    });
    if (!hasPassword(request.headers.authorization, password)) {
      response.writeHead(401, { 'content-type': 'text/plain' }).end('invalid authentication\n');
      return;
    }
    try {
      handler(request, response);
    } catch {
      request.socket.destroy();
    }
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    setHandler(next) {
      handler = next;
    },
    reset() {
      requests.length = 0;
      handler = unscripted;
    },
    close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      for (const socket of sockets) socket.destroy();
      return closed;
    },
  };
}

function hasPassword(authorization: string | undefined, password: string): boolean {
  const [scheme, encoded] = authorization?.split(' ') ?? [];
  if (scheme?.toLowerCase() !== 'basic' || !encoded) return false;
  const decoded = Buffer.from(encoded, 'base64').toString('utf8');
  const separator = decoded.indexOf(':');
  return separator >= 0 && decoded.slice(separator + 1) === password;
}

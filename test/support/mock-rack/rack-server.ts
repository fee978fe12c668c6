import { createServer as createHttpServer, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';

import { WebSocketServer, type WebSocket } from 'ws';

import type { Fault, FaultInjector } from './fault-injector';
import { RackSocket } from './rack-socket';
import { authenticate, firstHeader, newRequestId, RackError, writeEmpty, writeError, writeText } from './rack-wire';
import { captureRequestBody, type JournalRecord, type RequestJournal } from './request-journal';
import type { HttpRouteContext, RackRouteHandler, RackRuntime } from './route-context';
import type { PathVars, RouteDefinition, RouteTable } from './route-table';

/** After its EOF frame the rack leaves closing to the client; a mock that waits forever would leak sockets. */
const EOF_LINGER_MS = 1000;

const ORIGIN_REJECTED_BODY = 'Forbidden\nERROR: websocket: request origin not allowed by Upgrader.CheckOrigin\n';

export interface RackServerConfig {
  runtime: RackRuntime;
  routes: RouteTable<RackRouteHandler>;
  journal: RequestJournal;
  faults: FaultInjector;
  tls?: { key: string | Buffer; cert: string | Buffer };
}

/**
 * The rack API listener: stdapi's request pipeline (route → Request-Id and security headers → authenticate
 * → controller → error rendering) and its websocket upgrade path (upgrade first, authenticate after).
 */
export class RackServer {
  private readonly server: Server;
  private readonly websockets = new WebSocketServer({ noServer: true, skipUTF8Validation: true, perMessageDeflate: false });
  private readonly handshakes = new Set<Duplex>();

  constructor(private readonly config: RackServerConfig) {
    const listener = (request: IncomingMessage, response: ServerResponse): void => void this.handleRequest(request, response);
    this.server = config.tls ? createHttpsServer({ key: config.tls.key, cert: config.tls.cert }, listener) : createHttpServer(listener);
    // The rack sets ReadHeaderTimeout 30s, IdleTimeout 120s and no overall timeout: uploads may take minutes.
    this.server.requestTimeout = 0;
    this.server.headersTimeout = 30_000;
    this.server.keepAliveTimeout = 120_000;
    this.server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => void this.handleUpgrade(request, socket, head));
  }

  listen(): Promise<string> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', () => {
        const { port } = this.server.address() as AddressInfo;
        resolve(`${this.config.tls ? 'https' : 'http'}://127.0.0.1:${port}`);
      });
    });
  }

  async close(): Promise<void> {
    for (const client of this.websockets.clients) client.terminate();
    for (const socket of this.handshakes) socket.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    await new Promise<void>((resolve) => this.websockets.close(() => resolve()));
  }

  // --- HTTP ---

  private async handleRequest(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const method = request.method ?? 'GET';
    const record = this.config.journal.open(method, request);
    const bodyCaptured = captureRequestBody(request, record);
    // Aborted uploads are expected in tests; the rejection is observed where the body is awaited.
    bodyCaptured.catch(() => undefined);
    const clientGone = new AbortController();
    response.once('close', () => {
      if (!response.writableFinished) clientGone.abort();
    });
    response.once('finish', () => {
      record.entry.status = response.statusCode;
    });
    try {
      await this.dispatchRequest(request, response, record, bodyCaptured, clientGone.signal);
    } catch (error) {
      if (response.headersSent) response.destroy();
      else writeError(response, request.headers.accept, 500, error instanceof Error ? error.message : String(error));
    }
  }

  private async dispatchRequest(
    request: IncomingMessage,
    response: ServerResponse,
    record: JournalRecord,
    bodyCaptured: Promise<void>,
    signal: AbortSignal,
  ): Promise<void> {
    const method = request.method ?? 'GET';
    const path = decodePath(record.entry.path);
    if (path === null) {
      // Go's server refuses a malformed escape before any handler runs.
      writeText(response, 400, '400 Bad Request');
      return;
    }
    const drained = (): Promise<boolean> =>
      bodyCaptured.then(
        () => true,
        () => false,
      );

    const fault = this.config.faults.take(method, record.entry.path, path);
    if (fault && (await this.applyHttpFault(fault, request, response, drained, signal))) return;

    // stdapi registers /check on the root router: any method, no auth, no Request-Id.
    if (path === '/check') {
      if (await drained()) writeText(response, 200, 'ok');
      return;
    }

    const resolution = this.config.routes.resolve(method, path, false);
    const handler = resolution.outcome === 'matched' ? resolution.route.handler : null;
    if (resolution.outcome !== 'matched' || handler?.kind !== 'http') {
      if (await drained()) writeEmpty(response, resolution.outcome === 'method-not-allowed' ? 405 : 404);
      return;
    }
    const { route, vars } = resolution;
    record.entry.route = route.label;
    response.setHeader('Request-Id', newRequestId());
    response.setHeader('X-Content-Type-Options', 'nosniff');
    response.setHeader('X-Frame-Options', 'DENY');
    if (!(await drained())) return;

    const auth = authenticate(request.headers, this.config.runtime.password);
    record.entry.authenticated = auth.authenticated;
    if (!auth.authenticated) {
      if (auth.challenge) response.setHeader('WWW-Authenticate', 'Basic realm="convox"');
      writeError(response, request.headers.accept, 401, auth.message);
      return;
    }
    record.entry.actor = auth.actor;

    const context = this.httpContext(request, response, vars, record, signal);
    try {
      await handler.handle(context);
    } catch (error) {
      if (response.headersSent) {
        response.destroy();
        return;
      }
      const status = error instanceof RackError ? error.status : 500;
      writeError(response, request.headers.accept, status, error instanceof Error ? error.message : String(error));
    }
  }

  private httpContext(
    request: IncomingMessage,
    response: ServerResponse,
    vars: PathVars,
    record: JournalRecord,
    signal: AbortSignal,
  ): HttpRouteContext {
    const query = new URLSearchParams(record.entry.query);
    // net/http only parses form bodies into PostForm for POST, PUT and PATCH; the query comes after.
    const postForm = request.method === 'POST' || request.method === 'PUT' || request.method === 'PATCH' ? record.entry.form : null;
    return {
      runtime: this.config.runtime,
      request,
      response,
      vars,
      query,
      body: { size: record.entry.bodySize, sha256: record.sha256(), bytes: record.retainedBody() },
      signal,
      form: (name) => (postForm && Object.hasOwn(postForm, name) ? postForm[name][0] : undefined) ?? query.get(name) ?? undefined,
      header: (name) => headerValue(request, name),
    };
  }

  /** Returns true when the fault answered (or dropped) the request. */
  private async applyHttpFault(
    fault: Fault,
    request: IncomingMessage,
    response: ServerResponse,
    drained: () => Promise<boolean>,
    signal: AbortSignal,
  ): Promise<boolean> {
    const { timers } = this.config.runtime;
    if (fault.dropAfterMs !== undefined) {
      timers.schedule(fault.dropAfterMs, () => request.socket.destroy());
      return true;
    }
    if (fault.delayMs !== undefined && !(await timers.sleep(fault.delayMs, signal))) return true;
    if (fault.status === undefined) return false;
    if (!(await drained())) return true;
    if (fault.body === undefined) writeEmpty(response, fault.status);
    else writeError(response, request.headers.accept, fault.status, fault.body);
    return true;
  }

  // --- websockets ---

  private async handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    this.handshakes.add(socket);
    socket.once('close', () => this.handshakes.delete(socket));
    socket.on('error', () => socket.destroy());
    const isWebsocket = request.method === 'GET' && /\bwebsocket\b/i.test(request.headers.upgrade ?? '');
    const method = isWebsocket ? 'SOCKET' : (request.method ?? 'GET');
    const record = this.config.journal.open(method, request);
    const path = decodePath(record.entry.path);
    if (path === null) {
      rejectHandshake(socket, record, 400, '400 Bad Request');
      return;
    }

    const fault = this.config.faults.take(method, record.entry.path, path);
    if (fault?.delayMs !== undefined) {
      const socketGone = new AbortController();
      socket.once('close', () => socketGone.abort());
      if (!(await this.config.runtime.timers.sleep(fault.delayMs, socketGone.signal))) return;
    }
    if (fault?.status !== undefined) {
      rejectHandshake(socket, record, fault.status, fault.body === undefined ? '' : `${fault.body}\n`);
      return;
    }

    const resolution = this.config.routes.resolve(request.method ?? 'GET', path, isWebsocket);
    if (resolution.outcome !== 'matched' || resolution.route.handler.kind !== 'socket') {
      // A plain route reached with upgrade headers would be served as HTTP by mux; the mock only refuses it.
      rejectHandshake(socket, record, resolution.outcome === 'method-not-allowed' ? 405 : 404, '');
      return;
    }
    record.entry.route = resolution.route.label;
    if (!isSameOrigin(request)) {
      rejectHandshake(socket, record, 403, ORIGIN_REJECTED_BODY, {
        'Content-Type': 'text/plain; charset=utf-8',
        'Sec-Websocket-Version': '13',
        'X-Content-Type-Options': 'nosniff',
      });
      return;
    }
    const { route, vars } = resolution;
    this.websockets.handleUpgrade(request, socket, head, (ws) => {
      this.handshakes.delete(socket);
      void this.runSocketSession(ws, request, record, route, vars, fault);
    });
  }

  private async runSocketSession(
    ws: WebSocket,
    request: IncomingMessage,
    record: JournalRecord,
    route: RouteDefinition<RackRouteHandler>,
    vars: PathVars,
    fault: Fault | null,
  ): Promise<void> {
    record.entry.status = 101;
    const socket = new RackSocket(ws, record);
    const { runtime } = this.config;
    if (fault?.dropAfterMs !== undefined) runtime.timers.schedule(fault.dropAfterMs, () => socket.terminate());
    try {
      const auth = authenticate(request.headers, runtime.password);
      record.entry.authenticated = auth.authenticated;
      if (!auth.authenticated) {
        await socket.write(`ERROR: ${auth.message}\n`);
        return;
      }
      record.entry.actor = auth.actor;
      if (route.handler.kind === 'socket')
        await route.handler.handle({ runtime, socket, vars, header: (name) => headerValue(request, name) });
    } catch (error) {
      await socket.write(`ERROR: ${error instanceof Error ? error.message : String(error)}\n`);
    } finally {
      socket.writeEof();
      if (await runtime.timers.sleep(EOF_LINGER_MS, socket.signal)) socket.close(1000);
    }
  }
}

function headerValue(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name.toLowerCase()];
  return value === undefined ? undefined : firstHeader(value);
}

/** Go's URL parsing: percent-escapes become bytes, the result is UTF-8; a malformed escape is an error. */
export function decodePath(rawPath: string): string | null {
  if (/%(?![0-9A-Fa-f]{2})/.test(rawPath)) return null;
  if (!rawPath.includes('%')) return rawPath;
  const bytes = rawPath.replace(/%([0-9A-Fa-f]{2})/g, (_match, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
  return Buffer.from(bytes, 'latin1').toString('utf8');
}

/**
 * gorilla/websocket checkSameOrigin: no Origin is fine; otherwise the Origin's host[:port], as written,
 * must equal the Host header, case-insensitively. (WHATWG URL would normalise ports, Go does not.)
 */
export function isSameOrigin(request: IncomingMessage): boolean {
  const originIndex = request.rawHeaders.findIndex((name, index) => index % 2 === 0 && name.toLowerCase() === 'origin');
  if (originIndex < 0) return true;
  const origin = request.rawHeaders[originIndex + 1];
  const authority = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/([^/?#]*)/.exec(origin)?.[1] ?? '';
  const host = authority.slice(authority.lastIndexOf('@') + 1);
  return host.toLowerCase() === (request.headers.host ?? '').toLowerCase();
}

function rejectHandshake(socket: Duplex, record: JournalRecord, status: number, body: string, headers: Record<string, string> = {}): void {
  record.entry.status = status;
  record.entry.bodyComplete = true;
  const lines = [`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Unknown'}`, `Date: ${new Date().toUTCString()}`];
  for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
  lines.push(`Content-Length: ${Buffer.byteLength(body)}`, 'Connection: close', '', '');
  socket.end(lines.join('\r\n') + body);
}

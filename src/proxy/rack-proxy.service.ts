import { Inject, Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { createProxyServer } from 'http-proxy';
import { STATUS_CODES, type ClientRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { Readable, type Duplex } from 'node:stream';
import type { Principal } from '../auth/principal';
import { rackErrorBody } from '../common/errors/rack-error-body';
import { GATEWAY_CONFIG, GatewayConfig } from '../config/gateway-config';
import { RackConnection } from '../rack/rack-connection';
import { rackRequestTargetUrl } from '../rack/rack-request-target';
import type { AllowedRackRequest } from '../rbac/rack-authorizer.service';
import { SecretMasker } from '../rbac/secret-masker.service';
import { MASK } from '../rbac/secret-values';
import { redactBuildRepositories } from './build-repository-redactor';
import { prepareRackRequestHeaders, stripRackResponseHeaders } from './rack-headers';
import { WebsocketRefusal } from './websocket-refusal';

class UpstreamIdleTimeoutError extends Error {
  readonly code = 'RGW_UPSTREAM_IDLE_TIMEOUT';
}

/**
 * Answers the gateway must read to rewrite are JSON documents the rack builds in memory; the largest
 * real one (a long release list with big environments) is a few MiB. Past this the answer is refused
 * with 502 rather than held in memory.
 */
const MAX_REWRITTEN_ANSWER_BYTES = 32 * 1024 * 1024;

/**
 * After the rack's side of a websocket closes, the client's is ended and given this long to take what
 * is already queued (the rack's last frames) before its socket is destroyed.
 */
const SOCKET_LINGER_MS = 5_000;

/**
 * Forwards requests to the rack with http-proxy: bodies stream both ways unbuffered, sockets to the
 * rack are pooled, and the client's credentials are swapped for the rack's. An answer is read and
 * rewritten only when this caller may not see all of it (masked secrets, apps out of scope) or when
 * it can carry the rack password (builds). When either end of an exchange goes away, so does the other.
 */
@Injectable()
export class RackProxy implements OnModuleDestroy {
  private readonly logger = new Logger(RackProxy.name);
  private readonly proxy;
  private readonly publicUrl: URL;
  /** Requests whose answers this gateway rewrites, with what it needs to do so. */
  private readonly rewrites = new WeakMap<IncomingMessage, AllowedRackRequest>();
  /** Client ends of exchanges still open (responses and upgraded sockets): cut at shutdown. */
  private readonly openExchanges = new Set<{ destroy(): void }>();

  constructor(
    private readonly rack: RackConnection,
    private readonly refusal: WebsocketRefusal,
    private readonly masker: SecretMasker,
    @Inject(GATEWAY_CONFIG) config: GatewayConfig,
  ) {
    this.publicUrl = new URL(config.http.publicUrl);
    this.proxy = createProxyServer({
      target: rack.target.href,
      agent: rack.agent,
      changeOrigin: true,
      xfwd: false,
      // Forward req.url as it stands (the target RackRequestGuard parsed), never a url.parse of it;
      // the rack's base path is already part of it.
      toProxy: true,
      prependPath: false,
      // TLS trust is the agent's business (CA file, pin or explicit insecure), never http-proxy's.
      secure: !config.rack.tls.insecure && !config.rack.tls.fingerprint,
    });
    // An idle timeout, not a total one: promotes and large uploads run long but are never silent for long.
    const idleTimeoutMs = config.rack.idleTimeoutMs;
    this.proxy.on('proxyReq', (proxyRequest, _request, response) => {
      proxyRequest.setTimeout(idleTimeoutMs, () => proxyRequest.destroy(new UpstreamIdleTimeoutError('the rack stopped answering')));
      closeRackLegWithClient(proxyRequest, response);
    });
    this.proxy.on('proxyReqWs', (proxyRequest, _request, socket) => this.onRackUpgradeRequest(proxyRequest, socket));
    this.proxy.on('proxyRes', (proxyResponse, request, response) => this.onRackResponse(proxyResponse, request, response));
    this.proxy.on('error', (error, request, target) => this.onRackError(error, request, target));
  }

  /** Forwards an authorized request; `body`, when given, replaces the (already consumed) request body. */
  forward(request: IncomingMessage, response: ServerResponse, principal: Principal, decision: AllowedRackRequest, body?: Buffer): void {
    request.url = rackRequestTargetUrl(decision.target, this.rack.basePath);
    prepareRackRequestHeaders(request.headers, { authorization: this.rack.authorization, actor: principal.user.email, upgrade: false });
    const filter = decision.route.responseFilter;
    const selfHandleResponse = filter !== undefined && this.masker.needsRewrite(filter, decision);
    if (selfHandleResponse) this.rewrites.set(request, decision);
    this.track(response);
    if (body === undefined) {
      this.proxy.web(request, response, { selfHandleResponse });
      return;
    }
    request.headers['content-length'] = String(body.length);
    delete request.headers['transfer-encoding'];
    this.proxy.web(request, response, { selfHandleResponse, buffer: Readable.from([body]) });
  }

  forwardUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer, principal: Principal, decision: AllowedRackRequest): void {
    request.url = rackRequestTargetUrl(decision.target, this.rack.basePath);
    prepareRackRequestHeaders(request.headers, { authorization: this.rack.authorization, actor: principal.user.email, upgrade: true });
    this.track(socket);
    // Once upgraded, the two sockets are piped: frames pass byte for byte, opcodes and pings included.
    this.proxy.ws(request, socket, head, { agent: this.rack.upgradeAgent });
  }

  onModuleDestroy(): void {
    // Shutdown must finish: long log streams and exec sessions would otherwise hold the server open.
    for (const exchange of this.openExchanges) exchange.destroy();
    this.proxy.close();
  }

  private track(clientEnd: ServerResponse | Duplex): void {
    this.openExchanges.add(clientEnd);
    clientEnd.once('close', () => this.openExchanges.delete(clientEnd));
  }

  private onRackUpgradeRequest(proxyRequest: ClientRequest, socket: Duplex): void {
    proxyRequest.on('response', (answer: IncomingMessage) => {
      // The rack refused the upgrade: http-proxy relays its answer and only half-closes the socket.
      if (answer.statusCode !== 101) answer.once('end', () => destroyWhenFlushed(socket));
    });
    proxyRequest.on('upgrade', (_answer: IncomingMessage, rackSocket: Duplex) => {
      rackSocket.once('close', () => {
        if (!socket.writableEnded) socket.end();
        destroyWhenFlushed(socket);
      });
      socket.once('close', () => rackSocket.destroy());
    });
  }

  private onRackResponse(proxyResponse: IncomingMessage, request: IncomingMessage, response: ServerResponse): void {
    // An answer cut short of its length must not leave the client waiting for the rest.
    proxyResponse.once('close', () => {
      if (!proxyResponse.complete && !response.writableEnded) response.destroy();
    });
    stripRackResponseHeaders(proxyResponse.headers);
    // The rack's Connection describes its socket to us. The client's own wish (Node read it into
    // shouldKeepAlive) decides ours; http-proxy would otherwise answer keep-alive to a client that asked to close.
    proxyResponse.headers.connection = response.shouldKeepAlive ? 'keep-alive' : 'close';
    this.redactHead(proxyResponse);
    const decision = this.rewrites.get(request);
    if (decision) this.rewriteAnswer(proxyResponse, request, response, decision);
  }

  /** Last line of defence: no header or reason phrase of any answer carries the rack's credential, in any form. */
  private redactHead(proxyResponse: IncomingMessage): void {
    // http-proxy copies the rack's reason phrase to the client.
    if (proxyResponse.statusMessage && this.rack.leaksCredential(proxyResponse.statusMessage)) {
      proxyResponse.statusMessage = STATUS_CODES[proxyResponse.statusCode ?? 502] ?? '';
    }
    const headers = proxyResponse.headers;
    for (const name in headers) {
      if (this.rack.leaksCredential(name)) {
        delete headers[name];
        continue;
      }
      const value = headers[name];
      if (typeof value === 'string') {
        if (this.rack.leaksCredential(value)) headers[name] = this.rack.redactCredential(value, MASK);
      } else if (value?.some((item) => this.rack.leaksCredential(item))) {
        headers[name] = value.map((item) => this.rack.redactCredential(item, MASK));
      }
    }
  }

  private rewriteAnswer(
    proxyResponse: IncomingMessage,
    request: IncomingMessage,
    response: ServerResponse,
    decision: AllowedRackRequest,
  ): void {
    const refuseTooLarge = () => {
      proxyResponse.destroy();
      this.answerError(request, response, 502, 'rack answer too large for the gateway to filter');
    };
    if (Number(proxyResponse.headers['content-length'] ?? 0) > MAX_REWRITTEN_ANSWER_BYTES) {
      refuseTooLarge();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    proxyResponse.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_REWRITTEN_ANSWER_BYTES) refuseTooLarge();
      else chunks.push(chunk);
    });
    proxyResponse.on('error', () => response.destroy());
    proxyResponse.on('end', () => {
      const status = proxyResponse.statusCode ?? 502;
      let body: string;
      try {
        body = this.rewriteBody(Buffer.concat(chunks).toString('utf8'), status, decision);
      } catch (error) {
        this.logger.error(`rewriting ${request.method} ${decision.target.path} failed: ${(error as Error).message}`);
        this.answerError(request, response, 502, 'rack answer could not be filtered');
        return;
      }
      const headers = { ...proxyResponse.headers, 'content-length': String(Buffer.byteLength(body)) };
      delete headers['transfer-encoding'];
      response.writeHead(status, headers);
      response.end(body);
    });
  }

  private rewriteBody(text: string, status: number, decision: AllowedRackRequest): string {
    let rewritten = text;
    const filter = decision.route.responseFilter;
    if (status >= 200 && status < 300 && filter) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        // Not JSON: nothing to mask structurally; the credential sweep below still applies.
      }
      if (parsed !== undefined) {
        const result =
          filter === 'builds' ? redactBuildRepositories(parsed, this.publicUrl) : this.masker.rewrite(filter, parsed, decision);
        // The rack's own format: two-space indentation and a trailing newline.
        rewritten = `${JSON.stringify(result, null, 2)}\n`;
      }
    }
    // Last line of defence: no copy of the rack's credential leaves in an answer the gateway has read.
    return this.rack.redactCredential(rewritten, MASK);
  }

  private onRackError(error: NodeJS.ErrnoException, request: IncomingMessage, target: unknown): void {
    const timedOut = error instanceof UpstreamIdleTimeoutError;
    const status = timedOut ? 504 : 502;
    const message = timedOut ? 'rack timed out' : `rack unreachable (${error.code ?? 'connection failed'})`;
    this.logger.warn(`${request.method} ${request.url?.split('?', 1)[0]}: ${message}`);
    if (isServerResponse(target)) {
      this.answerError(request, target, status, message);
      return;
    }
    // A websocket whose rack leg failed before the handshake completed: answer as the rack would.
    this.refusal.refuse(request, target as Duplex, message);
  }

  private answerError(request: IncomingMessage, response: ServerResponse, status: number, message: string): void {
    if (response.destroyed) return;
    if (response.headersSent) {
      response.destroy();
      return;
    }
    const { headers, body } = rackErrorBody(status, message, request.headers);
    response.writeHead(status, headers).end(body);
  }
}

/** The client went away before its answer was complete: stop the rack's side too (a followed log, say). */
function closeRackLegWithClient(proxyRequest: ClientRequest, response: ServerResponse): void {
  if (response.destroyed && !response.writableFinished) {
    proxyRequest.destroy();
    return;
  }
  response.once('close', () => {
    if (!response.writableFinished) proxyRequest.destroy();
  });
}

/** Destroys a client socket once what is queued on it has been flushed, or after a grace period. */
function destroyWhenFlushed(socket: Duplex): void {
  if (socket.destroyed) return;
  if (socket.writableFinished) {
    socket.destroy();
    return;
  }
  const linger = setTimeout(() => socket.destroy(), SOCKET_LINGER_MS).unref();
  socket.once('finish', () => {
    clearTimeout(linger);
    socket.destroy();
  });
}

function isServerResponse(target: unknown): target is ServerResponse {
  return typeof (target as ServerResponse | undefined)?.writeHead === 'function';
}

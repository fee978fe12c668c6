import { Inject, Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { createProxyServer } from 'http-proxy';
import { STATUS_CODES, type ClientRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { Readable, type Duplex } from 'node:stream';
import type { Principal } from '../auth/principal';
import { rackErrorBody } from '../common/errors/rack-error-body';
import { GATEWAY_CONFIG, GatewayConfig } from '../config/gateway-config';
import { RackConnection } from '../rack/rack-connection';
import { parseRackJson } from '../rack/rack-json';
import { rackRequestTargetUrl } from '../rack/rack-request-target';
import type { AllowedRackRequest } from '../rbac/rack-authorizer.service';
import { type RackAnswerFilter, RackBehaviours } from './rack-behaviours';
import type { HttpExchange, WebsocketExchange } from './rack-exchange';
import { RackExchanges } from './rack-exchanges.service';
import { prepareRackRequestHeaders, stripRackResponseHeaders } from './rack-headers';
import type { RackSettlement } from './rack-settlement';
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

/** An HTTP exchange in flight, the filter its answer goes through and what its answer settles, if any. */
interface InFlight {
  readonly exchange: HttpExchange;
  readonly filter: RackAnswerFilter | undefined;
  settlement: RackSettlement | undefined;
  /** The answer names builds or releases the request created, for the exchange's outcome. */
  readonly readsCreated: boolean;
  /** A change's answer: its last bytes wait until its outcome is recorded (RackExchanges.answered). */
  readonly holdsAnswer: boolean;
}

/**
 * Where a request or socket keeps its exchange while http-proxy works on it: a property of its own,
 * not a WeakMap. A WeakMap entry whose value reaches back to its key (exchange → response → request)
 * is an ephemeron the young-generation collector cannot clear, so every request's objects were
 * promoted and left to full collections: about 4 MB per scavenge and a third of the gateway's CPU
 * per GET in the bench.
 */
const EXCHANGE = Symbol('rack exchange');
type WithInFlight = IncomingMessage & { [EXCHANGE]?: InFlight };
type WithWebsocketExchange<T> = T & { [EXCHANGE]?: WebsocketExchange };

/**
 * Forwards requests to the rack with http-proxy: bodies stream both ways unbuffered, sockets to the
 * rack are pooled, and the client's credentials are swapped for the rack's. An answer is read and
 * rewritten only when the route's answer filter applies to this caller. When either end of an exchange
 * goes away, so does the other.
 */
@Injectable()
export class RackProxy implements OnModuleDestroy {
  private readonly logger = new Logger(RackProxy.name);
  private readonly proxy;

  constructor(
    private readonly rack: RackConnection,
    private readonly refusal: WebsocketRefusal,
    private readonly behaviours: RackBehaviours,
    private readonly exchanges: RackExchanges,
    @Inject(GATEWAY_CONFIG) config: GatewayConfig,
  ) {
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
    this.proxy.on('proxyReqWs', (proxyRequest, request) => this.onRackUpgradeRequest(proxyRequest, request));
    // Emitted once http-proxy has piped the two sockets of an accepted upgrade.
    this.proxy.on('open', (rackSocket: WithWebsocketExchange<Duplex>) => rackSocket[EXCHANGE]?.follow(rackSocket));
    this.proxy.on('proxyRes', (proxyResponse, request, response) => this.onRackResponse(proxyResponse, request, response));
    this.proxy.on('error', (error, request, target) => this.onRackError(error, request, target));
  }

  /**
   * Forwards an authorized request; `body`, when given, replaces the (already consumed) request body.
   * A `settlement` holds the answer back until it is settled with it.
   */
  forward(
    request: IncomingMessage,
    response: ServerResponse,
    principal: Principal,
    decision: AllowedRackRequest,
    body?: Buffer,
    settlement?: RackSettlement,
  ): void {
    const exchange = this.exchanges.openHttp(request, response, principal, decision, request.headers.authorization);
    request.url = rackRequestTargetUrl(decision.target, this.rack.basePath);
    prepareRackRequestHeaders(request.headers, { authorization: this.rack.authorization, actor: principal.user.email, upgrade: false });
    const filter = this.behaviours.answerFilterFor(decision);
    // What a route created is read from its (small) answer when someone records outcomes: the audit trail.
    const readsCreated = decision.route.creates !== undefined && this.exchanges.reporting;
    const holdsAnswer = this.exchanges.holdsAnswer(decision);
    (request as WithInFlight)[EXCHANGE] = { exchange, filter, settlement, readsCreated, holdsAnswer };
    const selfHandleResponse = filter !== undefined || settlement !== undefined || readsCreated || holdsAnswer;
    if (body === undefined) {
      if (this.exchanges.reporting) exchange.countRequestBody(request);
      this.proxy.web(request, response, { selfHandleResponse });
      return;
    }
    exchange.bytesIn = body.length;
    request.headers['content-length'] = String(body.length);
    delete request.headers['transfer-encoding'];
    this.proxy.web(request, response, { selfHandleResponse, buffer: Readable.from([body]) });
  }

  forwardUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer, principal: Principal, decision: AllowedRackRequest): void {
    (request as WithWebsocketExchange<IncomingMessage>)[EXCHANGE] = this.exchanges.openWebsocket(
      request,
      socket,
      principal,
      decision,
      request.headers.authorization,
    );
    request.url = rackRequestTargetUrl(decision.target, this.rack.basePath);
    prepareRackRequestHeaders(request.headers, { authorization: this.rack.authorization, actor: principal.user.email, upgrade: true });
    // Once upgraded, the two sockets are piped: frames pass byte for byte, opcodes and pings included.
    this.proxy.ws(request, socket, head, { agent: this.rack.upgradeAgent });
  }

  onModuleDestroy(): void {
    this.proxy.close();
  }

  private onRackUpgradeRequest(proxyRequest: ClientRequest, request: WithWebsocketExchange<IncomingMessage>): void {
    const exchange = request[EXCHANGE];
    if (!exchange) return;
    // Registered before http-proxy's own listeners, so the exchange follows the sockets from their first byte.
    proxyRequest.on('response', (answer: IncomingMessage) => exchange.refusedByRack(answer));
    proxyRequest.on('upgrade', (_answer: IncomingMessage, rackSocket: WithWebsocketExchange<Duplex>) => {
      exchange.upgraded(rackSocket);
      rackSocket[EXCHANGE] = exchange;
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
    const inFlight = (request as WithInFlight)[EXCHANGE];
    if (!inFlight) return;
    if (inFlight.filter || inFlight.settlement || inFlight.readsCreated) this.rewriteAnswer(proxyResponse, request, response, inFlight);
    else if (inFlight.holdsAnswer) this.relayHeldAnswer(proxyResponse, request, response, inFlight.exchange);
    else if (this.exchanges.reporting) inFlight.exchange.countAnswer(proxyResponse);
  }

  /**
   * Streams a change's answer through one chunk behind: its last chunk, or its head when it has no
   * body (either tells the client the answer is complete), goes out once its outcome is recorded.
   */
  private relayHeldAnswer(
    proxyResponse: IncomingMessage,
    request: IncomingMessage,
    response: ServerResponse,
    exchange: HttpExchange,
  ): void {
    const status = proxyResponse.statusCode ?? 502;
    // What http-proxy's own relay does, which a self-handled answer skips.
    if (request.httpVersion === '1.0') delete proxyResponse.headers['transfer-encoding'];
    const writeHead = () => {
      if (response.headersSent) return;
      if (proxyResponse.statusMessage) response.statusMessage = proxyResponse.statusMessage;
      response.writeHead(status, proxyResponse.headers);
    };
    let held: Buffer | undefined;
    proxyResponse.on('data', (chunk: Buffer) => {
      exchange.bytesOut += chunk.length;
      if (held === undefined) writeHead();
      else if (!response.write(held)) {
        proxyResponse.pause();
        response.once('drain', () => proxyResponse.resume());
      }
      held = chunk;
    });
    proxyResponse.once('end', () => {
      void this.exchanges.answered(exchange, request, status).then(() => {
        if (response.destroyed) return;
        writeHead();
        response.end(held);
      });
    });
  }

  /** Settles what the request reserved, once; a failure to record is logged, and the answer still goes out. */
  private async settle(request: IncomingMessage, status: number, answer: unknown): Promise<void> {
    const inFlight = (request as WithInFlight)[EXCHANGE];
    const settlement = inFlight?.settlement;
    if (!inFlight || !settlement) return;
    inFlight.settlement = undefined;
    await settlement.settle(status, answer).catch((error: Error) => {
      this.logger.error(`recording the outcome of ${request.method} ${inFlight.exchange.decision.target.path} failed: ${error.message}`);
    });
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
        if (this.rack.leaksCredential(value)) headers[name] = this.rack.redactCredential(value);
      } else if (value?.some((item) => this.rack.leaksCredential(item))) {
        headers[name] = value.map((item) => this.rack.redactCredential(item));
      }
    }
  }

  /** Reads the whole answer, settles what the request reserved, and sends the answer on, filtered if it must be. */
  private rewriteAnswer(proxyResponse: IncomingMessage, request: IncomingMessage, response: ServerResponse, inFlight: InFlight): void {
    const { filter, exchange } = inFlight;
    const refuseTooLarge = () => {
      proxyResponse.destroy();
      void this.settle(request, 502, undefined);
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
    proxyResponse.on(
      'end',
      () =>
        void this.sendReadAnswer(
          proxyResponse,
          request,
          response,
          Buffer.concat(chunks).toString('utf8'),
          filter,
          exchange,
          inFlight.holdsAnswer,
        ),
    );
  }

  private async sendReadAnswer(
    proxyResponse: IncomingMessage,
    request: IncomingMessage,
    response: ServerResponse,
    text: string,
    filter: RackAnswerFilter | undefined,
    exchange: HttpExchange,
    holdsAnswer: boolean,
  ): Promise<void> {
    const status = proxyResponse.statusCode ?? 502;
    // Not JSON: nothing to filter structurally; the credential sweep still applies.
    const parsed = status >= 200 && status < 300 ? parseRackJson(text) : undefined;
    if (exchange.decision.route.creates) exchange.createdIds = createdIds(parsed);
    await this.settle(request, status, parsed);
    let body = text;
    try {
      // The rack's own format: two-space indentation and a trailing newline.
      if (filter && parsed !== undefined) body = `${JSON.stringify(filter.filter(parsed, exchange.decision), null, 2)}\n`;
    } catch (error) {
      this.logger.error(`rewriting ${request.method} ${exchange.decision.target.path} failed: ${(error as Error).message}`);
      this.answerError(request, response, 502, 'rack answer could not be filtered');
      return;
    }
    // Last line of defence: no copy of the rack's credential leaves in an answer the gateway has read.
    body = this.rack.redactCredential(body);
    if (response.destroyed) return;
    const length = Buffer.byteLength(body);
    exchange.bytesOut = length;
    if (holdsAnswer) await this.exchanges.answered(exchange, request, status);
    if (response.destroyed) return;
    const headers = { ...proxyResponse.headers, 'content-length': String(length) };
    delete headers['transfer-encoding'];
    response.writeHead(status, headers);
    response.end(body);
  }

  private onRackError(error: NodeJS.ErrnoException, request: IncomingMessage, target: unknown): void {
    const timedOut = error instanceof UpstreamIdleTimeoutError;
    const status = timedOut ? 504 : 502;
    const message = timedOut ? 'rack timed out' : `rack unreachable (${error.code ?? 'connection failed'})`;
    this.logger.warn(`${request.method} ${request.url?.split('?', 1)[0]}: ${message}`);
    if (isServerResponse(target)) {
      void this.settle(request, status, undefined).then(() => this.answerError(request, target, status, message));
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

/** The ids in a rack answer to a create: a build's (with the release an import already made) or a release's. */
function createdIds(answer: unknown): readonly string[] | undefined {
  if (answer === null || typeof answer !== 'object') return undefined;
  const { id, release } = answer as { id?: unknown; release?: unknown };
  if (typeof id !== 'string' || id === '') return undefined;
  return typeof release === 'string' && release !== '' ? [id, release] : [id];
}

function isServerResponse(target: unknown): target is ServerResponse {
  return typeof (target as ServerResponse | undefined)?.writeHead === 'function';
}

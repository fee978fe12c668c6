import { Inject, Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { createProxyServer } from 'http-proxy';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable, type Duplex } from 'node:stream';
import type { Principal } from '../auth/principal';
import { rackErrorBody } from '../common/errors/rack-error-body';
import { GATEWAY_CONFIG, GatewayConfig } from '../config/gateway-config';
import { RackConnection } from '../rack/rack-connection';
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
 * Forwards requests to the rack with http-proxy: bodies stream both ways unbuffered, sockets to the
 * rack are pooled, and the client's credentials are swapped for the rack's. An answer is read and
 * rewritten only when this caller may not see all of it (masked secrets, apps out of scope) or when
 * it can carry the rack password (builds).
 */
@Injectable()
export class RackProxy implements OnModuleDestroy {
  private readonly logger = new Logger(RackProxy.name);
  private readonly proxy;
  private readonly publicUrl: URL;
  /** Requests whose answers this gateway rewrites, with what it needs to do so. */
  private readonly rewrites = new WeakMap<IncomingMessage, AllowedRackRequest>();

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
      // TLS trust is the agent's business (CA file, pin or explicit insecure), never http-proxy's.
      secure: !config.rack.tls.insecure && !config.rack.tls.fingerprint,
    });
    // An idle timeout, not a total one: promotes and large uploads run long but are never silent for long.
    const idleTimeoutMs = config.rack.idleTimeoutMs;
    this.proxy.on('proxyReq', (proxyRequest) => {
      proxyRequest.setTimeout(idleTimeoutMs, () => proxyRequest.destroy(new UpstreamIdleTimeoutError('the rack stopped answering')));
    });
    this.proxy.on('proxyRes', (proxyResponse, request, response) => this.onRackResponse(proxyResponse, request, response));
    this.proxy.on('error', (error, request, target) => this.onRackError(error, request, target));
  }

  /** Forwards an authorized request; `body`, when given, replaces the (already consumed) request body. */
  forward(request: IncomingMessage, response: ServerResponse, principal: Principal, decision: AllowedRackRequest, body?: Buffer): void {
    prepareRackRequestHeaders(request.headers, { authorization: this.rack.authorization, actor: principal.user.email, upgrade: false });
    const filter = decision.route.responseFilter;
    const selfHandleResponse = filter !== undefined && this.masker.needsRewrite(filter, decision);
    if (selfHandleResponse) this.rewrites.set(request, decision);
    if (body === undefined) {
      this.proxy.web(request, response, { selfHandleResponse });
      return;
    }
    request.headers['content-length'] = String(body.length);
    delete request.headers['transfer-encoding'];
    this.proxy.web(request, response, { selfHandleResponse, buffer: Readable.from([body]) });
  }

  forwardUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer, principal: Principal): void {
    prepareRackRequestHeaders(request.headers, { authorization: this.rack.authorization, actor: principal.user.email, upgrade: true });
    // Once upgraded, the two sockets are piped: frames pass byte for byte, opcodes and pings included.
    this.proxy.ws(request, socket, head, { agent: this.rack.upgradeAgent });
  }

  onModuleDestroy(): void {
    this.proxy.close();
  }

  private onRackResponse(proxyResponse: IncomingMessage, request: IncomingMessage, response: ServerResponse): void {
    stripRackResponseHeaders(proxyResponse.headers);
    const location = proxyResponse.headers.location;
    if (location?.includes(this.rack.token)) proxyResponse.headers.location = location.split(this.rack.token).join(MASK);
    const decision = this.rewrites.get(request);
    if (!decision) return;

    const chunks: Buffer[] = [];
    proxyResponse.on('data', (chunk: Buffer) => chunks.push(chunk));
    proxyResponse.on('error', () => response.destroy());
    proxyResponse.on('end', () => {
      const status = proxyResponse.statusCode ?? 502;
      const body = this.rewriteBody(Buffer.concat(chunks).toString('utf8'), status, decision);
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
      try {
        const parsed = JSON.parse(text) as unknown;
        const result =
          filter === 'builds' ? redactBuildRepositories(parsed, this.publicUrl) : this.masker.rewrite(filter, parsed, decision);
        // The rack's own format: two-space indentation and a trailing newline.
        rewritten = `${JSON.stringify(result, null, 2)}\n`;
      } catch {
        // Not JSON: nothing to mask structurally; the token sweep below still applies.
      }
    }
    // Last line of defence: no copy of the rack token leaves in an answer the gateway has read.
    return rewritten.split(this.rack.token).join(MASK);
  }

  private onRackError(error: NodeJS.ErrnoException, request: IncomingMessage, target: unknown): void {
    const timedOut = error instanceof UpstreamIdleTimeoutError;
    const status = timedOut ? 504 : 502;
    const message = timedOut ? 'rack timed out' : `rack unreachable (${error.code ?? 'connection failed'})`;
    this.logger.warn(`${request.method} ${request.url?.split('?', 1)[0]}: ${message}`);

    if (isServerResponse(target)) {
      if (target.headersSent) {
        target.destroy();
        return;
      }
      const { headers, body } = rackErrorBody(status, message, request.headers);
      target.writeHead(status, headers).end(body);
      return;
    }
    // A websocket whose rack leg failed before the handshake completed: answer as the rack would.
    this.refusal.refuse(request, target as Duplex, message);
  }
}

function isServerResponse(target: unknown): target is ServerResponse {
  return typeof (target as ServerResponse | undefined)?.writeHead === 'function';
}

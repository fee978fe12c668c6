import { Inject, Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { createProxyServer } from 'http-proxy';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { rackErrorBody } from '../common/errors/rack-error-body';
import { GATEWAY_CONFIG, GatewayConfig } from '../config/gateway-config';
import type { Principal } from '../auth/principal';
import { RackConnection } from '../rack/rack-connection';
import { carriesBuildRepository, redactBuildRepositories } from './build-repository-redactor';
import { prepareRackRequestHeaders } from './rack-request-headers';
import { WebsocketRefusal } from './websocket-refusal';

class UpstreamIdleTimeoutError extends Error {
  readonly code = 'RGW_UPSTREAM_IDLE_TIMEOUT';
}

/** Response headers that describe the rack's connection to us, not ours to the client. */
const HOP_BY_HOP_RESPONSE = ['keep-alive', 'proxy-connection', 'proxy-authenticate', 'trailer', 'upgrade'];

/**
 * Forwards requests to the rack with http-proxy: bodies stream both ways unbuffered, sockets to the
 * rack are pooled, and the client's credentials are swapped for the rack's. Only build answers, which
 * can carry the rack password, are read and rewritten on the way back.
 */
@Injectable()
export class RackProxy implements OnModuleDestroy {
  private readonly logger = new Logger(RackProxy.name);
  private readonly proxy;
  private readonly publicUrl: URL;

  constructor(
    private readonly rack: RackConnection,
    private readonly refusal: WebsocketRefusal,
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

  forward(request: IncomingMessage, response: ServerResponse, principal: Principal): void {
    prepareRackRequestHeaders(request.headers, { authorization: this.rack.authorization, actor: principal.user.email, upgrade: false });
    const path = request.url ?? '/';
    const selfHandleResponse = carriesBuildRepository(request.method ?? 'GET', path.split('?', 1)[0]);
    this.proxy.web(request, response, { selfHandleResponse });
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
    for (const name of HOP_BY_HOP_RESPONSE) delete proxyResponse.headers[name];
    const location = proxyResponse.headers.location;
    if (location?.includes(this.rack.token)) proxyResponse.headers.location = location.split(this.rack.token).join('********');
    if (!carriesBuildRepository(request.method ?? 'GET', (request.url ?? '/').split('?', 1)[0])) return;

    const chunks: Buffer[] = [];
    proxyResponse.on('data', (chunk: Buffer) => chunks.push(chunk));
    proxyResponse.on('error', () => response.destroy());
    proxyResponse.on('end', () => {
      const body = redactBuildRepositories(Buffer.concat(chunks).toString('utf8'), this.rack.token, this.publicUrl);
      const headers = { ...proxyResponse.headers, 'content-length': String(Buffer.byteLength(body)) };
      delete headers['transfer-encoding'];
      response.writeHead(proxyResponse.statusCode ?? 502, headers);
      response.end(body);
    });
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

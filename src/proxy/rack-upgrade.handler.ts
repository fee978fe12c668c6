import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { STATUS_CODES, type IncomingMessage, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { RequestAuthenticator } from '../auth/request-authenticator.service';
import { isGatewayPath } from '../common/gateway-paths';
import { GATEWAY_CONFIG, GatewayConfig } from '../config/gateway-config';
import { readRackRequest } from '../rack/rack-request-target';
import { RackAuthorizer } from '../rbac/rack-authorizer.service';
import { RackProxy } from './rack-proxy.service';
import { WebsocketRefusal } from './websocket-refusal';

/**
 * Websocket upgrades (exec, logs, proxy, console...) never reach Nest's router, so this handler gives
 * them the same rules as HTTP: the target read as the rack will, a gateway token, then the route table,
 * before the rack is contacted. Whatever it refuses it also closes, so no socket outlives its refusal.
 */
@Injectable()
export class RackUpgradeHandler implements OnApplicationBootstrap {
  private readonly logger = new Logger(RackUpgradeHandler.name);
  private readonly publicOrigin: string;

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly authenticator: RequestAuthenticator,
    private readonly rackProxy: RackProxy,
    private readonly refusal: WebsocketRefusal,
    private readonly rackAuthorizer: RackAuthorizer,
    @Inject(GATEWAY_CONFIG) config: GatewayConfig,
  ) {
    this.publicOrigin = new URL(config.http.publicUrl).origin;
  }

  onApplicationBootstrap(): void {
    const server = this.adapterHost.httpAdapter.getHttpServer() as Server;
    server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
      this.handleUpgrade(request, socket, head).catch((error: Error) => {
        this.logger.error(`websocket upgrade failed: ${error.message}`);
        this.refusal.refuse(request, socket, 'internal error');
      });
    });
  }

  private async handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    socket.on('error', () => socket.destroy());
    const url = request.url ?? '/';
    if (isGatewayPath(url)) {
      rejectHandshake(socket, 404);
      return;
    }
    // The rack speaks websockets only, over GET; anything else (h2c, say) would smuggle a new protocol past the proxy.
    if (request.method !== 'GET' || request.headers.upgrade?.trim().toLowerCase() !== 'websocket') {
      rejectHandshake(socket, 400);
      return;
    }
    const reading = readRackRequest('GET', url, request.headers);
    if (!reading.ok) {
      this.refusal.refuse(request, socket, reading.reason);
      return;
    }
    if (!this.isSameOrigin(request)) {
      this.refusal.refuse(request, socket, 'cross-origin websocket refused');
      return;
    }
    const result = await this.authenticator.fromAuthorization(request.headers.authorization);
    if (result.outcome !== 'authenticated') {
      this.refusal.refuse(request, socket, result.outcome === 'missing' ? 'authentication required' : 'invalid authentication');
      return;
    }
    const decision = this.rackAuthorizer.authorize(result.principal, 'SOCKET', reading.target);
    if (!decision.allowed) {
      this.refusal.refuse(request, socket, decision.reason);
      return;
    }
    this.rackProxy.forwardUpgrade(request, socket, head, result.principal, decision);
  }

  /**
   * A browser sends the page's Origin with every websocket, and would send a Basic credential it has
   * cached for the gateway too: only the gateway's own pages may open one. Clients outside a browser
   * send no Origin, or (the convox CLI, like gorilla/websocket) the origin of the host they dialled.
   */
  private isSameOrigin(request: IncomingMessage): boolean {
    const origin = request.headers.origin;
    if (origin === undefined || origin === this.publicOrigin) return true;
    const authority = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/([^/?#]*)$/.exec(origin)?.[1];
    return authority !== undefined && authority.toLowerCase() === request.headers.host?.toLowerCase();
  }
}

/** Refuses a handshake outright and closes the socket once the answer is written. */
function rejectHandshake(socket: Duplex, status: number): void {
  socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`, () => socket.destroy());
}

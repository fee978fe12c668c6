import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { RequestAuthenticator } from '../auth/request-authenticator.service';
import { isGatewayPath } from '../common/gateway-paths';
import { RackAuthorizer } from '../rbac/rack-authorizer.service';
import { RackProxy } from './rack-proxy.service';
import { WebsocketRefusal } from './websocket-refusal';

/**
 * Websocket upgrades (exec, logs, proxy, console...) never reach Nest's router, so this handler gives
 * them the same rules as HTTP: a gateway token, then the route table, before the rack is contacted.
 */
@Injectable()
export class RackUpgradeHandler implements OnApplicationBootstrap {
  private readonly logger = new Logger(RackUpgradeHandler.name);

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly authenticator: RequestAuthenticator,
    private readonly rackProxy: RackProxy,
    private readonly refusal: WebsocketRefusal,
    private readonly rackAuthorizer: RackAuthorizer,
  ) {}

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
    if (isGatewayPath(request.url ?? '/')) {
      socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      return;
    }
    const result = await this.authenticator.fromAuthorization(request.headers.authorization);
    if (result.outcome !== 'authenticated') {
      this.refusal.refuse(request, socket, result.outcome === 'missing' ? 'authentication required' : 'invalid authentication');
      return;
    }
    const decision = this.rackAuthorizer.authorize(result.principal, 'SOCKET', request.url ?? '/');
    if (!decision.allowed) {
      this.refusal.refuse(request, socket, decision.reason);
      return;
    }
    this.rackProxy.forwardUpgrade(request, socket, head, result.principal);
  }
}

import { HttpException, Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { ExternalContextCreator, HttpAdapterHost, ModuleRef } from '@nestjs/core';
import { STATUS_CODES, type IncomingMessage, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { asCallerError } from '../common/errors/database-unavailable';
import { RequestRefusals } from '../common/errors/request-refusals';
import { isGatewayPath } from '../common/gateway-paths';
import { GATEWAY_CONFIG, GatewayConfig } from '../config/gateway-config';
import { ProxyController } from './proxy.controller';
import { RackUpgradeRequest } from './rack-upgrade-request';
import { WebsocketRefusal } from './websocket-refusal';

/**
 * Websocket upgrades (exec, logs, proxy, console...) never reach Nest's router. This handler runs them
 * through the very same pipeline as HTTP requests: Nest's ExternalContextCreator (what @nestjs/websockets
 * uses) wraps the proxy controller's upgrade handler with the application's guards and interceptors,
 * the same instances in the same order, so a stage registered once meets both. Whatever it refuses it
 * answers the rack's way and closes, so no socket outlives its refusal.
 */
@Injectable()
export class RackUpgradeHandler implements OnApplicationBootstrap {
  private readonly logger = new Logger(RackUpgradeHandler.name);
  private readonly publicOrigin: string;
  private pipeline: ((upgrade: RackUpgradeRequest) => Promise<unknown>) | undefined;

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly contextCreator: ExternalContextCreator,
    private readonly moduleRef: ModuleRef,
    private readonly refusal: WebsocketRefusal,
    private readonly refusals: RequestRefusals,
    @Inject(GATEWAY_CONFIG) config: GatewayConfig,
  ) {
    this.publicOrigin = new URL(config.http.publicUrl).origin;
  }

  onApplicationBootstrap(): void {
    const controller = this.moduleRef.get(ProxyController);
    this.pipeline = this.contextCreator.create(
      controller,
      // The method itself, not a bound copy: guards read its metadata (ProxiedToRack) from
      // context.getHandler(), and the creator calls it with the controller as `this`.
      // eslint-disable-next-line @typescript-eslint/unbound-method
      controller.forwardUpgradeToRack as (...args: unknown[]) => unknown,
      'forwardUpgradeToRack',
      undefined,
      undefined,
      undefined,
      undefined,
      // Errors become the rack's ERROR frame here, not an HTTP answer from the exception filter.
      { guards: true, interceptors: true, filters: false },
      'http',
    );
    const server = this.adapterHost.httpAdapter.getHttpServer() as Server;
    server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => this.handleUpgrade(request, socket, head));
  }

  private handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    if (isGatewayPath(request.url ?? '/')) {
      rejectHandshake(socket, 404);
      return;
    }
    // The rack speaks websockets only, over GET; anything else (h2c, say) would smuggle a new protocol past the proxy.
    if (request.method !== 'GET' || request.headers.upgrade?.trim().toLowerCase() !== 'websocket') {
      rejectHandshake(socket, 400);
      return;
    }
    if (!this.isSameOrigin(request)) {
      this.refusal.refuse(request, socket, 'cross-origin websocket refused');
      return;
    }
    const upgrade = new RackUpgradeRequest(request, socket, head);
    this.pipeline?.(upgrade).catch((thrown: unknown) => {
      const error = asCallerError(thrown);
      if (error !== thrown) this.logger.warn(`database unreachable: ${(thrown as Error).message}`);
      const reason = this.refusalReason(error);
      this.refusals.report({ request: upgrade, status: error instanceof HttpException ? error.getStatus() : 500, reason });
      this.refusal.refuse(request, socket, reason);
    });
  }

  private refusalReason(error: unknown): string {
    if (error instanceof HttpException) {
      const answer = error.getResponse();
      const message = typeof answer === 'object' && answer !== null ? (answer as { message?: unknown }).message : answer;
      if (typeof message === 'string') return message;
    }
    this.logger.error(`websocket upgrade failed: ${error instanceof Error ? error.stack : String(error)}`);
    return 'internal error';
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

import proxyaddr from '@fastify/proxy-addr';
import { Global, Inject, Injectable, Module } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config';

/**
 * The client's IP address as the gateway limits and records it: the socket's peer, unless that peer is
 * one of TRUSTED_PROXIES; only then is X-Forwarded-For read, right to left, up to the first address
 * that is not a trusted proxy. A client cannot choose its address by sending the header itself.
 */
@Injectable()
export class ClientAddress {
  private readonly trusted: ((address: string, hop: number) => boolean) | undefined;

  constructor(@Inject(GATEWAY_CONFIG) config: GatewayConfig) {
    this.trusted = config.trustedProxies.length > 0 ? proxyaddr.compile([...config.trustedProxies]) : undefined;
  }

  of(request: IncomingMessage): string {
    if (!this.trusted) return request.socket.remoteAddress ?? 'unknown';
    return proxyaddr(request, this.trusted);
  }
}

/** Global, like the clock: every module that limits or records by client may inject it. */
@Global()
@Module({ providers: [ClientAddress], exports: [ClientAddress] })
export class ClientAddressModule {}

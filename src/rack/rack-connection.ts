import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { Agent, IncomingMessage, request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { GATEWAY_CONFIG, GatewayConfig } from '../config/gateway-config';
import { createRackAgent } from './rack-agents';

/**
 * Everything the gateway needs to reach its one rack: where it is, how to trust its certificate and
 * the credentials only the gateway holds. Nothing here is ever sent to a client.
 */
@Injectable()
export class RackConnection implements OnApplicationShutdown {
  readonly target: URL;
  /** The value of the Authorization header the rack expects; secret. */
  readonly authorization: string;
  /** Pooled keep-alive sockets for ordinary requests. */
  readonly agent: Agent;
  /** Websocket upgrades take a socket for good, so they never come from the pool. */
  readonly upgradeAgent: Agent;
  readonly token: string;

  constructor(@Inject(GATEWAY_CONFIG) config: GatewayConfig) {
    this.target = config.rack.url;
    this.token = config.rack.token;
    this.authorization = `Basic ${Buffer.from(`${config.rack.username}:${config.rack.token}`).toString('base64')}`;
    this.agent = createRackAgent(this.target.protocol, config.rack.tls, true);
    this.upgradeAgent = createRackAgent(this.target.protocol, config.rack.tls, false);
  }

  /** `GET /check`, the rack's unauthenticated liveness probe. Resolves to the HTTP status. */
  check(timeoutMs: number): Promise<number> {
    const url = new URL(`${this.target.pathname.replace(/\/+$/, '')}/check`, this.target.origin);
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const probe = send(url, { agent: this.agent, timeout: timeoutMs }, (response: IncomingMessage) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      });
      probe.on('timeout', () => probe.destroy(new Error(`no answer from the rack within ${timeoutMs} ms`)));
      probe.on('error', reject);
      probe.end();
    });
  }

  onApplicationShutdown(): void {
    this.agent.destroy();
    this.upgradeAgent.destroy();
  }
}

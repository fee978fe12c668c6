import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { Agent, IncomingMessage, request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { GATEWAY_CONFIG, GatewayConfig } from '../config/gateway-config';
import { createRackAgent } from './rack-agents';

/** What the rack's credential is replaced with wherever it would have been echoed back. */
const CREDENTIAL_MASK = '********';

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
  /** The path the rack API is mounted at, without a trailing slash: usually empty. */
  readonly basePath: string;
  /** Every form in which the rack's credential could be echoed back: raw, URL-, JSON- or Basic-encoded. */
  private readonly credentialForms: readonly string[];

  constructor(@Inject(GATEWAY_CONFIG) config: GatewayConfig) {
    this.target = config.rack.url;
    this.basePath = this.target.pathname.replace(/\/+$/, '');
    const basicCredential = Buffer.from(`${config.rack.username}:${config.rack.token}`).toString('base64');
    this.authorization = `Basic ${basicCredential}`;
    const jsonEscaped = JSON.stringify(config.rack.token).slice(1, -1);
    // Go's encoding/json also escapes <, > and & (as \u003c, \u003e, \u0026).
    const goJsonEscaped = jsonEscaped.replace(/[<>&]/g, (character) => `\\u00${character.charCodeAt(0).toString(16)}`);
    this.credentialForms = [
      ...new Set([config.rack.token, encodeURIComponent(config.rack.token), jsonEscaped, goJsonEscaped, basicCredential]),
    ];
    this.agent = createRackAgent(this.target.protocol, config.rack.tls, true);
    this.upgradeAgent = createRackAgent(this.target.protocol, config.rack.tls, false);
  }

  /** Whether a text the rack sent holds its credential in any form. */
  leaksCredential(text: string): boolean {
    for (const form of this.credentialForms) if (text.includes(form)) return true;
    return false;
  }

  /** The text with every form of the rack's credential masked. */
  redactCredential(text: string): string {
    let redacted = text;
    for (const form of this.credentialForms) if (redacted.includes(form)) redacted = redacted.split(form).join(CREDENTIAL_MASK);
    return redacted;
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

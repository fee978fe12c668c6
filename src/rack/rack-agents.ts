import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent, AgentOptions } from 'node:https';
import { Duplex } from 'node:stream';
import { TLSSocket, connect as tlsConnect } from 'node:tls';
import type { RackTlsConfig } from '../config/gateway-config';

/** Sockets kept open to the rack between requests; the rack closes idle ones after 120 s. */
const KEEP_ALIVE_MS = 60_000;

export class RackCertificateMismatchError extends Error {
  readonly code = 'RACK_CERT_MISMATCH';
  constructor(actual: string) {
    super(`rack certificate fingerprint ${actual} does not match RACK_TLS_FINGERPRINT`);
  }
}

/**
 * An HTTPS agent that hands a socket to the HTTP client only once the rack's certificate matches the
 * pinned SHA-256 fingerprint, so not one byte of a request (and so not the rack token) reaches an
 * impostor. The pin replaces chain validation: it is how one trusts a rack's self-signed certificate.
 */
class PinnedHttpsAgent extends HttpsAgent {
  constructor(
    options: AgentOptions,
    private readonly fingerprint: string,
  ) {
    super({ ...options, rejectUnauthorized: false });
  }

  override createConnection(options: AgentOptions, callback?: (error: Error | null, socket: Duplex) => void): Duplex | undefined {
    const socket: TLSSocket = tlsConnect({ ...(options as object), rejectUnauthorized: false });
    const onError = (error: Error) => callback?.(error, socket);
    socket.once('error', onError);
    socket.once('secureConnect', () => {
      socket.removeListener('error', onError);
      const actual = socket.getPeerCertificate().fingerprint256;
      if (actual !== this.fingerprint) {
        socket.destroy();
        callback?.(new RackCertificateMismatchError(actual), socket);
        return;
      }
      callback?.(null, socket);
    });
    return undefined;
  }
}

/** Builds the agents the gateway uses toward the rack: pooled for HTTP, unpooled for websockets. */
export function createRackAgent(protocol: string, tls: RackTlsConfig, keepAlive: boolean): HttpAgent {
  const pool = keepAlive ? { keepAlive: true, keepAliveMsecs: KEEP_ALIVE_MS, scheduling: 'lifo' as const } : { keepAlive: false };
  if (protocol === 'http:') return new HttpAgent(pool);
  if (tls.fingerprint) return new PinnedHttpsAgent(pool, tls.fingerprint);
  return new HttpsAgent({ ...pool, ca: tls.ca, rejectUnauthorized: !tls.insecure });
}

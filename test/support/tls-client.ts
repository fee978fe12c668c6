import type { IncomingHttpHeaders } from 'node:http';
import { type Agent, request } from 'node:https';
import { type ConnectionOptions, type TLSSocket, connect } from 'node:tls';

export interface HttpsAnswer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  /** The certificate the server presented on this connection. */
  readonly peerFingerprint256: string;
  /** The client's port: the same one twice means the same connection. */
  readonly localPort: number;
}

export interface HttpsRequestOptions {
  /** The only CA trusted. */
  readonly ca: Buffer;
  /** A keep-alive agent to reuse a connection; without it each request makes (and closes) its own. */
  readonly agent?: Agent;
  readonly method?: string;
  readonly headers?: Record<string, string>;
}

/** One HTTPS request that verifies the server against `ca`, reporting which certificate it saw. */
export function httpsRequest(url: string, { ca, agent, method = 'GET', headers = {} }: HttpsRequestOptions): Promise<HttpsAnswer> {
  return new Promise((resolve, reject) => {
    // agent: false also means no TLS session cached from an earlier connection: a full handshake.
    const outgoing = request(url, { method, headers, ca, agent: agent ?? false }, (response) => {
      const socket = response.socket as TLSSocket;
      const peerFingerprint256 = socket.getPeerCertificate().fingerprint256;
      const localPort = socket.localPort ?? 0;
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () =>
        resolve({
          status: response.statusCode ?? 0,
          headers: response.headers,
          body: Buffer.concat(chunks).toString('utf8'),
          peerFingerprint256,
          localPort,
        }),
      );
      response.on('error', reject);
    });
    outgoing.on('error', reject);
    outgoing.end();
  });
}

export interface Handshake {
  readonly protocol: string | null;
  readonly alpnProtocol: string | false | null;
  readonly peerFingerprint256: string;
}

/** A bare TLS handshake with 127.0.0.1:`port` (then closed): what the server agrees to, or its refusal. */
export function tlsHandshake(port: number, options: ConnectionOptions): Promise<Handshake> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, ...options }, () => {
      resolve({
        protocol: socket.getProtocol(),
        alpnProtocol: socket.alpnProtocol,
        peerFingerprint256: socket.getPeerCertificate().fingerprint256,
      });
      socket.end();
    });
    socket.once('error', reject);
  });
}

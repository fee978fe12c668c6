import { type Server, type Socket, connect, createServer } from 'node:net';

export interface TcpCut {
  /** `url` (a postgres:// URL of the target, say) with the cut's address in place of the target's. */
  through(url: string): string;
  /** Resets every connection through it at once, and every new one until `restore`: the target is gone. */
  cut(): void;
  restore(): void;
  /** Connections accepted while cut, and reset. */
  readonly refused: number;
  close(): Promise<void>;
}

/**
 * A TCP forwarder between a client and a server (the gateway and its database) that can take the
 * server away on demand and give it back, the server itself untouched.
 */
export async function startTcpCut(target: { readonly host: string; readonly port: number }): Promise<TcpCut> {
  const pairs = new Set<[Socket, Socket]>();
  let isCut = false;
  let refused = 0;
  const server: Server = createServer((client) => {
    if (isCut) {
      refused += 1;
      client.resetAndDestroy();
      return;
    }
    const upstream = connect(target.port, target.host);
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    const end = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    for (const socket of pair) {
      socket.once('close', end);
      socket.on('error', end);
    }
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as { port: number };
  return {
    through(url) {
      const rewritten = new URL(url);
      rewritten.hostname = '127.0.0.1';
      rewritten.port = String(port);
      return rewritten.toString();
    },
    cut() {
      isCut = true;
      for (const [client, upstream] of pairs) {
        client.resetAndDestroy();
        upstream.destroy();
      }
      pairs.clear();
    },
    restore() {
      isCut = false;
    },
    get refused() {
      return refused;
    },
    async close() {
      for (const [client, upstream] of pairs) {
        client.destroy();
        upstream.destroy();
      }
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The host and port a postgres:// URL names. */
export function addressOf(url: string): { host: string; port: number } {
  const { hostname, port } = new URL(url);
  return { host: hostname, port: Number(port || 5432) };
}

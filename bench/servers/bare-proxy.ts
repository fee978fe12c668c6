import { createProxyServer } from 'http-proxy';
import { Agent, IncomingMessage, ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { serveUntilStopped } from '../lib/child-protocol';

/**
 * The floor for our proxy library: http-proxy passing everything through with no logic at all, set up
 * as the gateway sets it up (src/rack/rack-agents.ts, src/proxy/rack-proxy.service.ts): a pooled
 * keep-alive agent toward the upstream, an unpooled one for websocket upgrades, changeOrigin, no
 * X-Forwarded-*, and long-lived keep-alive toward clients as Fastify has by default.
 */
function main(): void {
  const target = process.argv[2];
  if (!target) throw new Error('usage: bare-proxy.ts <upstream url>');
  const agent = new Agent({ keepAlive: true, keepAliveMsecs: 60_000, scheduling: 'lifo' });
  const upgradeAgent = new Agent({ keepAlive: false });
  const proxy = createProxyServer({ target, agent, changeOrigin: true, xfwd: false });
  proxy.on('error', (_error, _request, target) => {
    if (target instanceof ServerResponse) {
      if (target.headersSent) target.destroy();
      else target.writeHead(502, { 'content-type': 'text/plain' }).end('upstream unreachable\n');
      return;
    }
    (target as Duplex).destroy();
  });

  const server = createServer((request: IncomingMessage, response: ServerResponse) => proxy.web(request, response));
  server.keepAliveTimeout = 72_000;
  server.requestTimeout = 0;
  server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    proxy.ws(request, socket, head, { agent: upgradeAgent });
  });

  server.listen(0, '127.0.0.1', () => {
    const { port } = server.address() as AddressInfo;
    serveUntilStopped({ kind: 'ready', port }, async () => {
      proxy.close();
      server.closeAllConnections();
      agent.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });
  });
}

main();

import httpProxy from 'http-proxy';
import { type Server, createServer } from 'node:http';

export interface LoadBalancer {
  readonly url: string;
  /** Which backend each request went to, in order. */
  readonly routed: string[];
  close(): Promise<void>;
}

/**
 * A round-robin load balancer in front of several gateways, HTTP and websockets alike: each request
 * goes to the next backend, so consecutive requests of one client land on different instances.
 */
export async function startLoadBalancer(port: number, backends: readonly string[]): Promise<LoadBalancer> {
  const proxy = httpProxy.createProxyServer({ xfwd: false, ws: true });
  const routed: string[] = [];
  let next = 0;
  const pick = () => {
    const backend = backends[next % backends.length];
    next += 1;
    routed.push(backend);
    return backend;
  };
  proxy.on('error', (_error, _request, response) => {
    if ('writeHead' in response && !response.headersSent) response.writeHead(502).end();
    else response.destroy();
  });
  const server: Server = createServer((request, response) => proxy.web(request, response, { target: pick() }));
  server.on('upgrade', (request, socket, head) => proxy.ws(request, socket, head, { target: pick() }));
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${port}`,
    routed,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
        proxy.close();
      }),
  };
}

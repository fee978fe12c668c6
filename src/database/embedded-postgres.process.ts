import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

/**
 * The embedded engine's own process (forked by EmbeddedPostgres): PGlite and its wire-protocol socket
 * server, off the gateway's heap, so the gateway's collections never mark the engine's memory. It
 * reports its address once listening, and ends when told to or when the gateway is gone.
 */
export type EmbeddedEngineMessage =
  { readonly kind: 'listening'; readonly address: string } | { readonly kind: 'failed'; readonly message: string };

async function serve(location: string): Promise<void> {
  const database = await PGlite.create(location);
  // One connection at a time is all PGlite serves; the gateway's pool holds exactly one.
  const server = new PGLiteSocketServer({ db: database, host: '127.0.0.1', port: 0, maxConnections: 1 });
  await server.start();
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    void server
      .stop()
      .then(() => database.close())
      .finally(() => process.exit(0));
  };
  process.on('message', (message) => message === 'stop' && stop());
  // The gateway died (kill -9 included): close the data directory cleanly rather than linger.
  process.on('disconnect', stop);
  process.on('SIGTERM', stop);
  // The gateway's own signal handling decides; a Ctrl-C reaching the whole group must not stop the engine first.
  process.on('SIGINT', () => undefined);
  report({ kind: 'listening', address: server.getServerConn() });
}

function report(message: EmbeddedEngineMessage): void {
  process.send?.(message);
}

serve(process.argv[2] ?? 'memory://').catch((error: Error) => {
  report({ kind: 'failed', message: error.message });
  process.exit(1);
});

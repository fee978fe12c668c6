import { Injectable, OnModuleDestroy } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import { EXIT_MARKER, reportsExitCode } from './rack-websocket-frames';
/** How long a refused client has to answer the close frame before its socket is destroyed (ws waits 30 s). */
const CLOSE_GRACE_MS = 1_000;

/**
 * Refuses a websocket the way the rack does: complete the upgrade, send `ERROR: <reason>\n` as a text
 * frame, then the empty binary end-of-stream frame. A refused handshake would only show the convox CLI
 * user "bad handshake". Exec and shell also get an exit code, so the CLI exits non-zero.
 */
@Injectable()
export class WebsocketRefusal implements OnModuleDestroy {
  private readonly server = new WebSocketServer({ noServer: true, perMessageDeflate: false, skipUTF8Validation: true });

  refuse(request: IncomingMessage, socket: Duplex, reason: string): void {
    if (!socket.writable) {
      socket.destroy();
      return;
    }
    const path = (request.url ?? '/').split('?', 1)[0];
    try {
      this.server.handleUpgrade(request, socket, Buffer.alloc(0), (websocket) => {
        websocket.send(Buffer.from(`ERROR: ${reason}\n`), { binary: false });
        if (reportsExitCode(path)) websocket.send(Buffer.from(`${EXIT_MARKER}:1\n`), { binary: false });
        websocket.send(Buffer.alloc(0), { binary: true });
        websocket.close(1000);
        setTimeout(() => websocket.terminate(), CLOSE_GRACE_MS).unref();
      });
    } catch {
      socket.destroy();
    }
  }

  onModuleDestroy(): void {
    // A refused client that never answers the close frame would otherwise hold shutdown for 30 s.
    for (const client of this.server.clients) client.terminate();
    this.server.close();
  }
}

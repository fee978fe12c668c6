import { Injectable, OnModuleDestroy } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';

/** The marker after which the convox CLI reads an exec session's exit code. */
const EXIT_MARKER = 'F1E49A85-0AD7-4AEF-A618-C249C6E6568D';
const EXITING_ROUTE = /^\/(?:apps\/[^/]+\/processes\/[^/]+\/exec|instances\/[^/]+\/shell)$/;

/**
 * Refuses a websocket the way the rack does: complete the upgrade, send `ERROR: <reason>\n` as a text
 * frame, then the empty binary end-of-stream frame. A refused handshake would only show the convox CLI
 * user "bad handshake". Exec and shell also get an exit code, so the CLI exits non-zero.
 */
@Injectable()
export class WebsocketRefusal implements OnModuleDestroy {
  private readonly server = new WebSocketServer({ noServer: true, perMessageDeflate: false, skipUTF8Validation: true });

  refuse(request: IncomingMessage, socket: Duplex, reason: string): void {
    if (socket.destroyed || !socket.writable) return;
    const path = (request.url ?? '/').split('?', 1)[0];
    try {
      this.server.handleUpgrade(request, socket, Buffer.alloc(0), (websocket) => {
        websocket.send(Buffer.from(`ERROR: ${reason}\n`), { binary: false });
        if (EXITING_ROUTE.test(path)) websocket.send(Buffer.from(`${EXIT_MARKER}:1\n`), { binary: false });
        websocket.send(Buffer.alloc(0), { binary: true });
        websocket.close(1000);
      });
    } catch {
      socket.destroy();
    }
  }

  onModuleDestroy(): void {
    this.server.close();
  }
}

import { WebSocket, type RawData } from 'ws';

import type { JournalRecord } from './request-journal';

/** Above this much unsent data, writers wait for the socket to drain. */
const HIGH_WATER_MARK = 4 * 1024 * 1024;

/**
 * One rack websocket session with stdapi's framing: every payload is a TEXT frame of raw bytes (never
 * decoded, often not UTF-8), and an empty BINARY frame means end of stream in either direction.
 */
export class RackSocket {
  private readonly incoming: Buffer[] = [];
  private inputEnded = false;
  private wakeReader: (() => void) | null = null;
  private readonly closeController = new AbortController();
  /** Resolves once the connection is closed, by either side. */
  readonly closed: Promise<void>;

  constructor(
    private readonly ws: WebSocket,
    private readonly record: JournalRecord,
  ) {
    ws.on('message', (data: RawData, isBinary: boolean) => this.receive(toBuffer(data), isBinary));
    ws.on('error', () => ws.terminate());
    this.closed = new Promise((resolve) => {
      ws.once('close', () => {
        this.endInput();
        this.closeController.abort();
        resolve();
      });
    });
  }

  /** Aborted when the connection closes, so sleeps and follow loops stop with it. */
  get signal(): AbortSignal {
    return this.closeController.signal;
  }

  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  /** stdapi Context.Read: text frames are data; any binary frame (normally empty) is EOF. */
  private receive(payload: Buffer, isBinary: boolean): void {
    this.record.recordFrame(payload, isBinary);
    if (this.inputEnded) return;
    if (isBinary) this.endInput();
    else if (payload.length > 0) this.incoming.push(payload);
    this.wakeReader?.();
  }

  private endInput(): void {
    this.inputEnded = true;
    this.record.entry.bodyComplete = true;
    this.wakeReader?.();
  }

  /** The next chunk the client sent, or null once it sent EOF or went away. */
  async read(): Promise<Buffer | null> {
    for (;;) {
      const next = this.incoming.shift();
      if (next) return next;
      if (this.inputEnded) return null;
      await new Promise<void>((resolve) => {
        this.wakeReader = resolve;
      });
      this.wakeReader = null;
    }
  }

  /** Sends raw bytes as a text frame; waits only when the peer is not keeping up. */
  write(data: Buffer | string): Promise<void> {
    if (!this.isOpen) return Promise.resolve();
    const payload = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    return new Promise((resolve) => {
      this.ws.send(payload, { binary: false }, () => resolve());
      if (this.ws.bufferedAmount < HIGH_WATER_MARK) resolve();
    });
  }

  writeEof(): void {
    if (this.isOpen) this.ws.send(Buffer.alloc(0), { binary: true });
  }

  close(code = 1000): void {
    if (this.isOpen) this.ws.close(code);
  }

  /** Drops the TCP connection without a close frame, as a crashed rack or idle-timeout would. */
  terminate(): void {
    this.ws.terminate();
  }
}

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

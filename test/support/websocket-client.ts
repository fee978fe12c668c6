import WebSocket from 'ws';

export interface Frame {
  readonly data: Buffer;
  readonly binary: boolean;
}

/**
 * A websocket client that behaves like the convox CLI's: raw-byte text frames, no UTF-8 checks, no
 * compression, and an empty binary frame as end of stream.
 */
export class RackSocket {
  readonly frames: Frame[] = [];
  /** The close code the far end sent, once it has closed. */
  closeCode: number | undefined;
  private readonly ended: Promise<void>;

  private constructor(private readonly socket: WebSocket) {
    socket.on('message', (data: Buffer, binary: boolean) => this.frames.push({ data, binary }));
    socket.on('close', (code: number) => (this.closeCode = code));
    this.ended = new Promise((resolve) => {
      const done = () => resolve();
      socket.on('close', done);
      socket.on('error', done);
      socket.on('message', (data: Buffer, binary: boolean) => {
        if (binary && data.length === 0) done();
      });
    });
  }

  /** `localAddress` dials from another loopback address (127.0.0.2, …): another client, as the gateway sees it. */
  static open(url: string, headers: Record<string, string>, localAddress?: string): Promise<RackSocket> {
    const socket = new WebSocket(url.replace(/^http/, 'ws'), { headers, skipUTF8Validation: true, perMessageDeflate: false, localAddress });
    const client = new RackSocket(socket);
    return new Promise((resolve, reject) => {
      socket.once('open', () => resolve(client));
      socket.once('unexpected-response', (_request, response) => reject(new Error(`handshake answered ${response.statusCode}`)));
      socket.once('error', reject);
    });
  }

  send(data: Buffer | string): void {
    this.socket.send(typeof data === 'string' ? Buffer.from(data) : data, { binary: false });
  }

  /** Tells the far end that stdin is done, as the CLI does. */
  sendEof(): void {
    this.socket.send(Buffer.alloc(0), { binary: true });
  }

  /** Resolves once the socket has closed (after the end-of-stream frame, if any). */
  async untilClosed(timeoutMs = 10_000): Promise<number | undefined> {
    const closed = new Promise<void>((resolve) =>
      this.socket.readyState === WebSocket.CLOSED ? resolve() : this.socket.once('close', () => resolve()),
    );
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      closed,
      new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('socket did not close')), timeoutMs))),
    ]);
    clearTimeout(timer);
    return this.closeCode;
  }

  /** Resolves at the end-of-stream frame or close; the frames received are then complete. */
  async untilEnd(timeoutMs = 10_000): Promise<Frame[]> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.ended,
      new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('stream did not end')), timeoutMs))),
    ]);
    clearTimeout(timer);
    return this.frames;
  }

  /** Everything received as text frames, concatenated as bytes. */
  output(): Buffer {
    return Buffer.concat(this.frames.filter((frame) => !frame.binary).map((frame) => frame.data));
  }

  close(): void {
    this.socket.terminate();
  }
}

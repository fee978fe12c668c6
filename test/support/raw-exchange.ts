import { connect } from 'node:net';

export interface RawExchange {
  /** Everything the server sent, as latin1 text so bytes survive. */
  readonly text: string;
  /** Status codes of every HTTP response in `text`, in order. */
  readonly statuses: number[];
  /** Whether the server closed the connection (rather than the wait running out). */
  readonly closedByServer: boolean;
}

/**
 * Writes bytes to the gateway exactly as given (smuggling probes, targets no HTTP client would send)
 * and collects what comes back until the server closes the connection, `done` says the answer is in
 * (by default: a first answer with a Content-Length is complete), or `waitMs` passes.
 */
export function rawExchange(
  url: string,
  bytes: string | Buffer,
  waitMs = 1_500,
  done: (text: string) => boolean = firstAnswerComplete,
): Promise<RawExchange> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    const chunks: Buffer[] = [];
    let closedByServer = false;
    const finish = () => {
      clearTimeout(timer);
      socket.destroy();
      const text = Buffer.concat(chunks).toString('latin1');
      const statuses = [...text.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((match) => Number(match[1]));
      resolve({ text, statuses, closedByServer });
    };
    const timer = setTimeout(finish, waitMs);
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      if (done(Buffer.concat(chunks).toString('latin1'))) finish();
    });
    socket.on('end', () => {
      closedByServer = true;
      finish();
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'ECONNRESET') return reject(error);
      closedByServer = true;
      finish();
    });
    socket.write(bytes);
  });
}

function firstAnswerComplete(text: string): boolean {
  const headEnd = text.indexOf('\r\n\r\n');
  if (headEnd < 0) return false;
  const length = /\r\ncontent-length: *(\d+)/i.exec(text.slice(0, headEnd))?.[1];
  return length !== undefined && text.length >= headEnd + 4 + Number(length);
}

/** An HTTP/1.1 request head, CRLF-joined, with the gateway's Host. */
export function requestHead(url: string, requestLine: string, headers: readonly string[]): string {
  return [requestLine, `Host: ${new URL(url).host}`, ...headers, '', ''].join('\r\n');
}

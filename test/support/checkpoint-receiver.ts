import { type IncomingHttpHeaders, type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

interface Checkpoint {
  readonly seq: number;
  readonly hash: string;
  readonly at: string;
}

/**
 * The smallest receiver of AUDIT_CHECKPOINT_URL's protocol (README, "Checkpoints over HTTP"): `POST`
 * appends the checkpoint in its JSON body (204), `GET` answers the one with the highest `seq` (404
 * when it holds none), both only with `Authorization: Bearer <token>` when it has a token. It only
 * ever appends, as a real one should: a sender cannot take back what it checkpointed.
 */
export class CheckpointReceiver {
  readonly checkpoints: Checkpoint[] = [];
  /** The headers of every request, oldest first. */
  readonly requests: Array<{ readonly method: string; readonly headers: IncomingHttpHeaders }> = [];
  /** While set, every request is answered with this status. */
  failWith: number | undefined;
  private server: Server | undefined;
  private port = 0;

  constructor(private readonly token?: string) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}/checkpoints/rack-gateway`;
  }

  listen(): Promise<void> {
    const server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        this.requests.push({ method: request.method ?? '', headers: request.headers });
        if (this.failWith !== undefined) return void response.writeHead(this.failWith).end();
        if (this.token !== undefined && request.headers.authorization !== `Bearer ${this.token}`) return void response.writeHead(401).end();
        if (request.method === 'POST') {
          this.checkpoints.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as Checkpoint);
          return void response.writeHead(204).end();
        }
        const newest = this.newest();
        if (!newest) return void response.writeHead(404).end();
        response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(newest));
      });
    });
    this.server = server;
    return new Promise((resolve) =>
      server.listen(0, '127.0.0.1', () => {
        this.port = (server.address() as AddressInfo).port;
        resolve();
      }),
    );
  }

  newest(): Checkpoint | undefined {
    return this.checkpoints.reduce<Checkpoint | undefined>(
      (newest, checkpoint) => (newest && newest.seq >= checkpoint.seq ? newest : checkpoint),
      undefined,
    );
  }

  close(): Promise<void> {
    const server = this.server;
    if (!server) return Promise.resolve();
    this.server = undefined;
    server.closeAllConnections();
    return new Promise((resolve) => server.close(() => resolve()));
  }
}

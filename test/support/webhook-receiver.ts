import { type IncomingHttpHeaders, type Server, createServer } from 'node:http';

export interface ReceivedDelivery {
  readonly id: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: Record<string, unknown>;
  readonly status: number;
}

/** A webhook receiver: answers 200, except that a delivery of an event in `refusedTwice` gets 500 twice first. */
export class WebhookReceiver {
  readonly received: ReceivedDelivery[] = [];
  readonly refusedTwice = new Set<string>();
  /** Requests read but not yet answered. */
  unanswered = 0;
  private server: Server | undefined;

  constructor(
    readonly port: number,
    /** The path of its URL: a Slack webhook's is the credential. */
    private readonly path: string,
    private readonly answerDelayMs = 0,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}${this.path}`;
  }

  listen(): Promise<void> {
    const server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const id = String(request.headers['x-rack-gateway-delivery']);
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
        const refusals = this.refusedTwice.has(String(body.event)) ? 2 : 0;
        const status = this.received.filter((delivery) => delivery.id === id).length < refusals ? 500 : 200;
        this.received.push({ id, headers: request.headers, body, status });
        this.unanswered += 1;
        setTimeout(() => {
          this.unanswered -= 1;
          response.writeHead(status).end();
        }, this.answerDelayMs);
      });
    });
    this.server = server;
    return new Promise((resolve) => server.listen(this.port, '127.0.0.1', resolve));
  }

  close(): Promise<void> {
    const server = this.server;
    if (!server) return Promise.resolve();
    this.server = undefined;
    server.closeAllConnections();
    return new Promise((resolve) => server.close(() => resolve()));
  }

  /** Every request for the notice of this event, in order. */
  attemptsFor(event: string): ReceivedDelivery[] {
    return this.received.filter((delivery) => delivery.body.event === event);
  }

  deliveredOnce(event: string): boolean {
    return this.attemptsFor(event).filter((delivery) => delivery.status === 200).length === 1;
  }
}

/** Deliveries are polled for every 2 s and retried after 1–2 s, then 2–4 s: wait for the outcome rather than a fixed time. */
export async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

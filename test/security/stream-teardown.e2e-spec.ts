import { randomBytes } from 'node:crypto';
import { request, type IncomingMessage } from 'node:http';
import { rawRequest } from '../support/raw-request';
import { ScriptedRack, startScriptedRack } from '../support/scripted-rack';
import { TestGateway, basicAuth, startTestGateway } from '../support/test-gateway';

/** How soon one leg must follow the other down: far inside the gateway's 15-minute rack idle timeout. */
const TEARDOWN_WITHIN_MS = 1_000;
const TICK_MS = 50;

const RACK_PASSWORD = `rack-pass-${randomBytes(16).toString('hex')}`;
const TARBALL = '/apps/myapp/builds/B1.tgz';
const RELEASES = '/apps/myapp/releases';

/** What a client saw of one exchange, up to the moment its answer ended or broke. */
interface ClientOutcome {
  readonly status?: number;
  readonly bytes: number;
  /** Whether the answer arrived whole (as long as its framing said). */
  readonly complete: boolean;
  readonly error?: string;
  readonly settledAt: number;
}

describe('both ends close when either side does', () => {
  let rack: ScriptedRack;
  let gateway: TestGateway;
  let viewer: string;

  beforeAll(async () => {
    rack = await startScriptedRack(RACK_PASSWORD);
    // The default rack idle timeout (900 s): nothing here may rely on it firing.
    gateway = await startTestGateway({ rackUrl: rack.url, rackToken: RACK_PASSWORD });
    ({ token: viewer } = await gateway.createUserWithToken('viewer@example.com', 'viewer'));
  });

  afterAll(async () => {
    try {
      expect(gateway.logs.text()).not.toContain(RACK_PASSWORD);
    } finally {
      await gateway.close();
      await rack.close();
    }
  });

  beforeEach(() => rack.reset());

  const asViewer = () => ({ authorization: basicAuth(viewer) });

  async function expectNextRequestServed(): Promise<void> {
    rack.setHandler((_request, response) => response.writeHead(200, { 'content-type': 'application/octet-stream' }).end('whole tarball'));
    const next = await rawRequest(`${gateway.url}${TARBALL}`, { method: 'GET', headers: asViewer() });
    expect(next.status).toBe(200);
    expect(next.body.toString('utf8')).toBe('whole tarball');
  }

  it.each([
    ['a streamed build tarball after a few chunks', TARBALL, 3],
    ['a release list the gateway is still reading to rewrite', RELEASES, 0],
  ])('closes the rack leg within 1 s when the client hangs up on %s', async (_label, path, chunksBeforeHangUp) => {
    rack.setHandler((_request, response) => {
      response.writeHead(200, { 'content-type': path === TARBALL ? 'application/octet-stream' : 'application/json' });
      const ticker = setInterval(() => response.write(path === TARBALL ? randomBytes(512) : '{"app":"myapp"},'), TICK_MS);
      response.once('close', () => clearInterval(ticker));
    });

    const client = request(`${gateway.url}${path}`, { headers: asViewer() });
    client.on('error', () => undefined);
    client.end();
    const received = await new Promise<number>((resolve) => {
      client.once('response', (response: IncomingMessage) => {
        let chunks = 0;
        response.on('error', () => undefined);
        response.on('data', () => {
          if (++chunks === chunksBeforeHangUp) resolve(chunks);
        });
      });
      // A rewritten answer sends nothing until the rack's ends; hang up while the rack is still talking.
      if (chunksBeforeHangUp === 0) setTimeout(() => resolve(0), 5 * TICK_MS);
    });
    const hungUpAt = performance.now();
    client.destroy();

    expect(received).toBe(chunksBeforeHangUp);
    expect(rack.requests).toHaveLength(1);
    expect(rack.requests[0]).toMatchObject({ method: 'GET', url: path, headers: { 'convox-actor': 'viewer@example.com' } });
    const closed = await within(TEARDOWN_WITHIN_MS, rack.requests[0]?.responseClosed, 'the rack leg to close');
    expect(closed.answerFinished).toBe(false);
    expect(closed.at - hungUpAt).toBeLessThan(TEARDOWN_WITHIN_MS);
  });

  it.each([
    ['a streamed build tarball', TARBALL],
    ['a release list the gateway reads to rewrite', RELEASES],
  ])(
    'fails the client within 1 s when the rack dies 10 bytes into a 1000-byte answer (%s), and serves the next request on a fresh socket',
    async (_label, path) => {
      let rackDiedAt = 0;
      rack.setHandler((request, response) => {
        response.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': '1000' });
        response.write('0123456789', () => {
          rackDiedAt = performance.now();
          request.socket.destroy();
        });
      });

      const outcome = await within(TEARDOWN_WITHIN_MS + 2_000, getOutcome(`${gateway.url}${path}`, asViewer()), 'the client to settle');

      expect(outcome.complete).toBe(false);
      expect(outcome.bytes).toBeLessThan(1000);
      // Never a rewritten answer made whole from a truncated one.
      if (path === RELEASES) expect(outcome.status === undefined || outcome.status >= 500).toBe(true);
      expect(outcome.settledAt - rackDiedAt).toBeLessThan(TEARDOWN_WITHIN_MS);
      const brokenSocketPort = rack.requests[0]?.remotePort;
      expect(rack.requests[0]).toMatchObject({ method: 'GET', url: path });

      await expectNextRequestServed();
      expect(rack.requests).toHaveLength(2);
      expect(rack.requests[1]?.remotePort).not.toBe(brokenSocketPort);
    },
  );

  it('answers 502 in the rack error shape when the rack closes the connection without answering', async () => {
    rack.setHandler((request) => request.socket.destroy());

    const answer = await rawRequest(`${gateway.url}${TARBALL}`, { method: 'GET', headers: asViewer() });

    expect(answer.status).toBe(502);
    expect(answer.body.toString('utf8')).toMatch(/^rack unreachable \([A-Z_]+\)\n$/);
    expect(rack.requests).toHaveLength(1);
    expect(rack.requests[0]).toMatchObject({ method: 'GET', url: TARBALL });
    await expectNextRequestServed();
  });
});

/** GETs `url` and reports how the answer ended, whole or broken, rather than throwing. */
function getOutcome(url: string, headers: Record<string, string>): Promise<ClientOutcome> {
  return new Promise((resolve) => {
    const client = request(url, { headers });
    client.once('error', (error: NodeJS.ErrnoException) =>
      resolve({ bytes: 0, complete: false, error: error.code ?? error.message, settledAt: performance.now() }),
    );
    client.once('response', (response: IncomingMessage) => {
      let bytes = 0;
      let error: string | undefined;
      response.on('data', (chunk: Buffer) => (bytes += chunk.length));
      response.on('error', (cause: NodeJS.ErrnoException) => (error = cause.code ?? cause.message));
      response.once('close', () =>
        resolve({ status: response.statusCode, bytes, complete: response.complete, error, settledAt: performance.now() }),
      );
    });
    client.end();
  });
}

/** `promise`'s value, or a clear failure naming what did not happen within `ms`. */
async function within<T>(ms: number, promise: Promise<T> | undefined, what: string): Promise<T> {
  if (!promise) throw new Error(`nothing to wait for: ${what}`);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`waited ${ms} ms for ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { rawRequest, type RawResponse } from '../support/raw-request';
import { ScriptedRack, startScriptedRack } from '../support/scripted-rack';
import { TestGateway, basicAuth, startTestGateway } from '../support/test-gateway';

const MiB = 1024 * 1024;
/** The gateway's cap on an answer it must read to rewrite (MAX_REWRITTEN_ANSWER_BYTES in rack-proxy.service.ts). */
const REWRITE_LIMIT_BYTES = 32 * MiB;
const HUGE_ANSWER_BYTES = 100 * MiB;
/** Past the cap plus what sockets and the heap hold besides; a gateway that buffered it all would grow 100+ MiB. */
const MAX_RSS_GROWTH_BYTES = REWRITE_LIMIT_BYTES + 32 * MiB;
/** Deep enough to overflow any recursive JSON walker's stack. */
const NESTING_DEPTH = 200_000;

const RACK_PASSWORD = `rack-pass-${randomBytes(16).toString('hex')}`;
const RELEASES = '/apps/myapp/releases';
const SMALL_RELEASE_LIST = JSON.stringify([{ app: 'myapp', id: 'RSMALL', env: 'SECRET_KEY=abc\nPORT=3000' }]);

describe('Unbounded buffering of rewritten answers', () => {
  let rack: ScriptedRack;
  let gateway: TestGateway;
  let viewer: string;

  beforeAll(async () => {
    rack = await startScriptedRack(RACK_PASSWORD);
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

  const getReleasesAsViewer = () =>
    rawRequest(`${gateway.url}${RELEASES}`, { method: 'GET', headers: { authorization: basicAuth(viewer) } });

  /** A follow-up request is answered normally: the process is alive and its pool not poisoned. */
  async function expectNextRequestServed(): Promise<void> {
    rack.setHandler((_request, response) => response.writeHead(200, { 'content-type': 'application/json' }).end(SMALL_RELEASE_LIST));
    const next = await getReleasesAsViewer();
    expect(next.status).toBe(200);
    expect(JSON.parse(next.body.toString('utf8'))).toEqual([{ app: 'myapp', id: 'RSMALL', env: 'PORT=********\nSECRET_KEY=********' }]);
  }

  function expectRackSawViewerRelease(index = 0): void {
    expect(rack.requests[index]).toMatchObject({
      method: 'GET',
      url: RELEASES,
      headers: { authorization: basicAuth(RACK_PASSWORD), 'convox-actor': 'viewer@example.com' },
    });
  }

  it.each([
    ['with a Content-Length', true],
    ['chunked, without a Content-Length', false],
  ])('refuses a 100 MiB release list %s with 502, holding at most 32 MiB, and hangs up on the rack', async (_label, declareLength) => {
    const huge = hugeReleaseList(HUGE_ANSWER_BYTES);
    let rackSent = 0;
    rack.setHandler((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json', ...(declareLength ? { 'content-length': String(huge.length) } : {}) });
      void writeRespectingBackpressure(response, huge.chunks(), (bytes) => (rackSent += bytes));
    });

    const { result: answer, growth } = await withPeakRssGrowth(getReleasesAsViewer);

    expect(answer.status).toBe(502);
    expect(answer.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(answer.body.toString('utf8')).toBe('rack answer too large for the gateway to filter\n');
    expect(growth).toBeLessThan(MAX_RSS_GROWTH_BYTES);
    expectRackSawViewerRelease();
    await expect(rack.requests[0]?.responseClosed).resolves.toMatchObject({ answerFinished: false });
    expect(rackSent).toBeLessThan(huge.length);

    await expectNextRequestServed();
    expect(rack.requests).toHaveLength(2);
  });

  it.each([
    [`${NESTING_DEPTH} nested arrays`, `${'['.repeat(NESTING_DEPTH)}${']'.repeat(NESTING_DEPTH)}`],
    [
      `a release holding ${NESTING_DEPTH} nested objects`,
      `[{"app":"myapp","id":"R1","env":"A=1","manifest":${'{"a":'.repeat(NESTING_DEPTH)}1${'}'.repeat(NESTING_DEPTH)}}]`,
    ],
  ])('survives a rack answer of %s: 502 or a valid answer, and the next request is served', async (_label, body) => {
    rack.setHandler((_request, response) => response.writeHead(200, { 'content-type': 'application/json' }).end(body));

    const answer = await getReleasesAsViewer();

    expectFilteredOrRefused(answer);
    expectRackSawViewerRelease();
    await expectNextRequestServed();
  });

  it('masks a release whose JSON carries a __proto__ key, without polluting any prototype', async () => {
    const body = '[{"__proto__":{"polluted":"yes","env":"LEAK=1"},"app":"myapp","id":"R1","env":"SECRET=hunter2\\nPORT=3000"}]';
    rack.setHandler((_request, response) => response.writeHead(200, { 'content-type': 'application/json' }).end(body));

    const answer = await getReleasesAsViewer();

    expect(answer.status).toBe(200);
    const [release] = JSON.parse(answer.body.toString('utf8')) as Array<Record<string, unknown>>;
    expect(release).toMatchObject({ app: 'myapp', id: 'R1', env: 'PORT=********\nSECRET=********' });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expectRackSawViewerRelease();
  });

  it('passes a text/plain answer on a rewritten route through unparsed, with the rack password swept out', async () => {
    const body = `releases unavailable: https://convox:${RACK_PASSWORD}@api.rack said no\n`;
    rack.setHandler((_request, response) => response.writeHead(200, { 'content-type': 'text/plain' }).end(body));

    const answer = await getReleasesAsViewer();

    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toBe('text/plain');
    expect(answer.body.toString('utf8')).toBe('releases unavailable: https://convox:********@api.rack said no\n');
    expect(answer.headers['content-length']).toBe(String(answer.body.length));
    expectRackSawViewerRelease();
  });
});

/** A JSON release list of about `approximateBytes`, produced a 1 MiB chunk at a time and never held whole. */
function hugeReleaseList(approximateBytes: number): { length: number; chunks(): Generator<Buffer> } {
  const item = '{"app":"myapp","id":"RHUGE00000","env":"PORT=3000","status":"created"},';
  const block = Buffer.from(item.repeat(Math.floor(MiB / item.length)));
  const blocks = Math.ceil(approximateBytes / block.length);
  const open = Buffer.from('[');
  const close = Buffer.from('{}]');
  return {
    length: open.length + blocks * block.length + close.length,
    *chunks() {
      yield open;
      for (let index = 0; index < blocks; index++) yield block;
      yield close;
    },
  };
}

/** Writes as fast as the gateway reads, as a real rack does, so only the gateway's buffering shows in RSS. */
async function writeRespectingBackpressure(
  response: ServerResponse,
  chunks: Iterable<Buffer>,
  onSent: (bytes: number) => void,
): Promise<void> {
  for (const chunk of chunks) {
    if (response.destroyed) return;
    onSent(chunk.length);
    if (!response.write(chunk)) await drainedOrClosed(response);
  }
  if (!response.destroyed) response.end();
}

function drainedOrClosed(response: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      response.off('drain', done);
      response.off('close', done);
      resolve();
    };
    response.on('drain', done);
    response.on('close', done);
  });
}

/** The gateway runs in this process, so its memory is ours: sample RSS while `during` runs. */
async function withPeakRssGrowth<T>(during: () => Promise<T>): Promise<{ result: T; growth: number }> {
  const baseline = process.memoryUsage.rss();
  let peak = baseline;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 5);
  try {
    const result = await during();
    return { result, growth: Math.max(peak, process.memoryUsage.rss()) - baseline };
  } finally {
    clearInterval(sampler);
  }
}

/** Pathological JSON may be refused or rewritten; anything else (a crash, a hang, a broken answer) fails. */
function expectFilteredOrRefused(answer: RawResponse): void {
  const text = answer.body.toString('utf8');
  if (answer.status === 200) {
    expect(() => JSON.parse(text) as unknown).not.toThrow();
  } else {
    expect({ status: answer.status, text }).toEqual({ status: 502, text: 'rack answer could not be filtered\n' });
  }
}

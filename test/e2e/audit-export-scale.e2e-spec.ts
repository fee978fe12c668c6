import { createReadStream, createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream } from 'node:stream/web';
import { createInterface } from 'node:readline';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { DataSource } from 'typeorm';
import { AuditKey } from '../../src/audit/audit-key';
import { appendChainedEvents } from '../support/audit-events';
import { rackAndGateway } from '../support/gateway-fixture';
import { runScript } from '../support/run-script';

const EVENTS = 100_000;
const MiB = 1024 * 1024;
/** The export reads 1,000 events a page; holding the whole chain would take hundreds of MiB. */
const GROWTH_LIMIT = 64 * MiB;

setFlagsFromString('--expose-gc');
/**
 * A full collection, so a sample counts what the export holds, not garbage waiting for V8: after other
 * files in the same jest worker, V8 lets garbage pile up well past the limit before collecting.
 */
const collectGarbage = runInNewContext('gc') as () => void;

/** The acceptance test of #11: an export of 100k events streams with flat memory and verifies on its own. */
describe('exporting a chain of 100,000 events', () => {
  const fixture = rackAndGateway();
  let directory: string;
  let admin: string;

  beforeAll(async () => {
    directory = mkdtempSync(join(tmpdir(), 'rgw-audit-export-scale-'));
    ({ token: admin } = await fixture.gateway.createUserWithToken('admin@example.com', 'admin'));
    await appendChainedEvents(fixture.gateway.app.get(DataSource), fixture.gateway.app.get(AuditKey).value, EVENTS);
  }, 180_000);

  afterAll(() => rmSync(directory, { recursive: true, force: true }));

  it('streams them with the gateway’s memory flat, and the file verifies with audit:verify --file', async () => {
    const file = join(directory, 'audit-events.jsonl');
    // The gateway runs in this process: its heap and RSS are ours, sampled while the export streams to disk.
    collectGarbage();
    const baseline = process.memoryUsage();
    const peak = { heapUsed: baseline.heapUsed, rss: baseline.rss };
    const sampler = setInterval(() => {
      collectGarbage();
      const now = process.memoryUsage();
      peak.heapUsed = Math.max(peak.heapUsed, now.heapUsed);
      peak.rss = Math.max(peak.rss, now.rss);
    }, 1_000);
    try {
      const response = await fetch(`${fixture.gateway.url}/api/v1/audit/export?format=jsonl`, {
        headers: { authorization: `Bearer ${admin}` },
      });
      expect(response.status).toBe(200);
      if (!response.body) throw new Error('no body');
      await pipeline(Readable.fromWeb(response.body as ReadableStream<Uint8Array>), createWriteStream(file));
    } finally {
      clearInterval(sampler);
    }
    const growth = { heap: peak.heapUsed - baseline.heapUsed, rss: peak.rss - baseline.rss };
    expect(growth.heap).toBeLessThan(GROWTH_LIMIT);
    expect(growth.rss).toBeLessThan(GROWTH_LIMIT);

    let lines = 0;
    for await (const line of createInterface({ input: createReadStream(file), crlfDelay: Infinity })) if (line) lines += 1;
    expect(lines).toBeGreaterThanOrEqual(EVENTS);

    const verified = await runScript(
      'src/cli/audit-verify.ts',
      ['--file', file],
      { APP_SECRET_KEY: fixture.gateway.config.sessions.secret },
      180_000,
    );
    expect(verified).toMatchObject({
      code: 0,
      stdout: expect.stringMatching(`^audit chain intact: ${lines} events, head [0-9a-f]{64}\\n$`),
    });
  }, 300_000);
});

import { createReadStream, createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream } from 'node:stream/web';
import { createInterface } from 'node:readline';
import { DataSource } from 'typeorm';
import { deriveAuditKey } from '../../src/audit/audit-key';
import { EmbeddedPostgres } from '../../src/database/embedded-postgres';
import { appendChainedEvents } from '../support/audit-events';
import { type GatewayProcess, startGatewayProcess } from '../support/gateway-process';
import { type MockRack, startMockRack } from '../support/mock-rack';
import { readRssMiB } from '../support/process-memory';
import { runScript } from '../support/run-script';
import { type TestDatabase, createTestDatabase } from '../support/test-database';

const EVENTS = 100_000;
const ADMIN = 'admin@example.com';
const SECRET = 'export-scale-secret-key-0123456789abcdef';
const MiB = 1024 * 1024;
/** The export reads 1,000 events a page; holding the whole chain would take hundreds of MiB. */
const GROWTH_LIMIT = 64 * MiB;
/**
 * The gateway's heap is capped below what holding the chain takes (an export of it in one page dies
 * out of memory here), which also makes V8 collect as it goes rather than let garbage read as growth.
 */
const HEAP_LIMIT_MIB = 128;

/**
 * The acceptance test of #11: an export of 100k events streams with flat memory and verifies on its
 * own. The gateway runs in a process of its own, so its memory is measured alone, not with a jest
 * worker's (which, late in a suite, holds GiBs that a forced collection would have to walk).
 */
describe('exporting a chain of 100,000 events', () => {
  let rack: MockRack;
  let database: TestDatabase;
  let directory: string;
  let gateway: GatewayProcess;
  let token: string;

  beforeAll(async () => {
    directory = mkdtempSync(join(tmpdir(), 'rgw-audit-export-scale-'));
    rack = await startMockRack();
    database = await createTestDatabase();
    const env = {
      NODE_ENV: 'development',
      HOST: '127.0.0.1',
      RACK_HOST: rack.url,
      RACK_TOKEN: rack.password,
      APP_SECRET_KEY: SECRET,
      ADMIN_USERS: ADMIN,
      MFA_REQUIRED: 'false',
      LOG_LEVEL: 'warn',
      ...(database.url ? { DATABASE_URL: database.url } : { DATA_DIR: join(directory, 'data') }),
    };
    // The embedded engine serves one process: the token and the chain are made before the gateway starts.
    const created = await runScript('src/cli/create-token.ts', ['--user', ADMIN, '--name', 'export'], env, 60_000);
    if (created.code !== 0) throw new Error(`token:create failed: ${created.stderr}`);
    token = created.stdout.trim();
    await withDatabase(database.url ?? join(directory, 'data'), (dataSource) =>
      appendChainedEvents(dataSource, deriveAuditKey(SECRET), EVENTS),
    );
    gateway = await startGatewayProcess(env, { nodeArgs: [`--max-old-space-size=${HEAP_LIMIT_MIB}`] });
  }, 300_000);

  afterAll(async () => {
    await gateway?.stop('SIGKILL');
    await rack?.close();
    await database?.drop();
    rmSync(directory, { recursive: true, force: true });
  });

  it('streams them with the gateway’s memory flat, and the file verifies with audit:verify --file', async () => {
    const file = join(directory, 'audit-events.jsonl');
    const pid = gateway.process.pid ?? 0;
    const baseline = readRssMiB(pid) * MiB;
    let peak = baseline;
    const sampler = setInterval(() => (peak = Math.max(peak, readRssMiB(pid) * MiB)), 100);
    try {
      const response = await fetch(`${gateway.url}/api/v1/audit/export?format=jsonl`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(response.status).toBe(200);
      if (!response.body) throw new Error('no body');
      await pipeline(Readable.fromWeb(response.body as ReadableStream<Uint8Array>), createWriteStream(file));
    } finally {
      clearInterval(sampler);
    }
    expect(peak - baseline).toBeLessThan(GROWTH_LIMIT);

    let lines = 0;
    for await (const line of createInterface({ input: createReadStream(file), crlfDelay: Infinity })) if (line) lines += 1;
    expect(lines).toBeGreaterThanOrEqual(EVENTS);

    const verified = await runScript('src/cli/audit-verify.ts', ['--file', file], { APP_SECRET_KEY: SECRET }, 180_000);
    expect(verified).toMatchObject({
      code: 0,
      stdout: expect.stringMatching(`^audit chain intact: ${lines} events, head [0-9a-f]{64}\\n$`),
    });
  }, 300_000);
});

/** `work` on the database at `location`: a server's URL, or an embedded engine's data directory. */
async function withDatabase<T>(location: string, work: (dataSource: DataSource) => Promise<T>): Promise<T> {
  const embedded = location.startsWith('postgres://') ? undefined : await EmbeddedPostgres.start(location);
  const dataSource = await new DataSource({ type: 'postgres', url: embedded?.connectionUrl ?? location, poolSize: 1 }).initialize();
  try {
    return await work(dataSource);
  } finally {
    await dataSource.destroy();
    await embedded?.stop();
  }
}

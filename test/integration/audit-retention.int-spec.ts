import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { AuditKey } from '../../src/audit/audit-key';
import { AuditRetention } from '../../src/audit/audit-retention.service';
import { AuditVerifier } from '../../src/audit/audit-verifier.service';
import { appendChainedEvents, readEvent } from '../support/audit-events';
import { rackAndGateway } from '../support/gateway-fixture';
import { runScript } from '../support/run-script';
import { TestDatabase, createTestDatabase, describeOnPostgresServer } from '../support/test-database';

const DAY_MS = 86_400_000;
const OLD_EVENTS = 40;
const RECENT_EVENTS = 10;

/** 40 events from 100 days ago, then 10 from yesterday: a retention of 30 days removes exactly the first 40. */
async function appendOldAndRecent(dataSource: DataSource, key: Buffer): Promise<void> {
  const now = Date.now();
  await appendChainedEvents(dataSource, key, OLD_EVENTS, (index) =>
    readEvent(index, { occurredAt: new Date(now - 100 * DAY_MS + index * 1000) }),
  );
  await appendChainedEvents(dataSource, key, RECENT_EVENTS, (index) =>
    readEvent(index, { occurredAt: new Date(now - DAY_MS + index * 1000) }),
  );
}

interface StoredEvent {
  seq: string;
  kind: string;
  hash: Buffer;
  details: Record<string, unknown>;
}

describe('audit retention', () => {
  const fixture = rackAndGateway({ env: { AUDIT_AGGREGATE_READS_SECONDS: '0' } });
  const directory = mkdtempSync(join(tmpdir(), 'rgw-audit-retention-'));

  const database = () => fixture.gateway.app.get(DataSource);
  const verify = () => fixture.gateway.app.get(AuditVerifier).verify();
  const retain = (before: Date, archive: string) =>
    fixture.gateway.app.get(AuditRetention).retain({ before, archivePath: join(directory, archive), operator: 'ops@bastion' });
  const event = async (seq: number) =>
    (await database().query<StoredEvent[]>(`SELECT seq, kind, hash, details FROM audit_events WHERE seq = $1`, [seq]))[0];
  const verifyFile = (file: string) =>
    runScript('src/cli/audit-verify.ts', ['--file', join(directory, file)], { APP_SECRET_KEY: fixture.gateway.config.sessions.secret });
  /** Runs `sql` with the append-only triggers off, as an owner of the database could. */
  const tamper = async (sql: string, parameters: unknown[] = []) => {
    await database().query(`ALTER TABLE audit_events DISABLE TRIGGER USER`);
    try {
      await database().query(sql, parameters);
    } finally {
      await database().query(`ALTER TABLE audit_events ENABLE TRIGGER USER`);
    }
  };

  beforeAll(() => appendOldAndRecent(database(), fixture.gateway.app.get(AuditKey).value));
  afterAll(() => rmSync(directory, { recursive: true, force: true }));

  it('archives the old events, removes them, records it in the chain, and the chain verifies from its anchor', async () => {
    const last = await event(OLD_EVENTS);
    const outcome = await retain(new Date(Date.now() - 30 * DAY_MS), 'first.jsonl');
    const archive = readFileSync(join(directory, 'first.jsonl'));
    expect(outcome).toEqual({
      removed: OLD_EVENTS,
      fromSeq: 1,
      toSeq: OLD_EVENTS,
      archiveSha256: createHash('sha256').update(archive).digest('hex'),
      anchor: { seq: OLD_EVENTS, hash: last.hash.toString('hex') },
      eventSeq: expect.any(Number),
    });

    const lines = archive.toString('utf8').trimEnd().split('\n');
    expect(lines.map((line) => (JSON.parse(line) as { seq: number }).seq)).toEqual(
      Array.from({ length: OLD_EVENTS }, (_, index) => index + 1),
    );
    expect(await database().query(`SELECT seq FROM audit_events WHERE seq <= $1`, [OLD_EVENTS])).toEqual([]);
    expect(await event(outcome?.eventSeq ?? 0)).toMatchObject({
      kind: 'audit.retention',
      details: {
        operator: 'ops@bastion',
        removed: OLD_EVENTS,
        fromSeq: 1,
        toSeq: OLD_EVENTS,
        archive: 'first.jsonl',
        archiveSha256: outcome?.archiveSha256,
        anchor: { seq: OLD_EVENTS, hash: last.hash.toString('hex') },
      },
    });

    expect(await verify()).toEqual({
      intact: true,
      anchorSeq: OLD_EVENTS,
      events: RECENT_EVENTS + 1,
      headHash: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    // The archive verifies on its own, and ends at the anchor the chain now starts after.
    expect(await verifyFile('first.jsonl')).toMatchObject({
      code: 0,
      stdout: `audit chain intact: ${OLD_EVENTS} events, head ${last.hash.toString('hex')}\n`,
    });
  });

  it('refuses a DELETE outside a retention, and inside one beyond the anchor it recorded; never UPDATE or TRUNCATE', async () => {
    await expect(database().query(`DELETE FROM audit_events WHERE seq = $1`, [OLD_EVENTS + 1])).rejects.toThrow('append-only');
    const runner = database().createQueryRunner();
    await runner.connect();
    try {
      for (const sql of [
        `DELETE FROM audit_events WHERE seq = ${OLD_EVENTS + 1}`,
        `UPDATE audit_events SET status = 500 WHERE seq = ${OLD_EVENTS + 1}`,
        `TRUNCATE audit_events`,
      ]) {
        await runner.startTransaction();
        await runner.query(`SET LOCAL rgw.audit_retention = 'on'`);
        await expect(runner.query(sql)).rejects.toThrow('append-only');
        await runner.rollbackTransaction();
      }
    } finally {
      await runner.release();
    }
    expect((await verify()).intact).toBe(true);
  });

  it('archives nothing when no event is old enough, and never overwrites an archive', async () => {
    expect(await retain(new Date(Date.now() - 30 * DAY_MS), 'nothing.jsonl')).toBeUndefined();
    expect(existsSync(join(directory, 'nothing.jsonl'))).toBe(false);
    await expect(retain(new Date(Date.now() - DAY_MS / 2), 'first.jsonl')).rejects.toThrow('EEXIST');
    expect((await verify()).anchorSeq).toBe(OLD_EVENTS);
  });

  it('moves the anchor on at the next retention, attested by its own event', async () => {
    const before = await verify();
    const outcome = await retain(new Date(Date.now() - DAY_MS / 2), 'second.jsonl');
    // Yesterday's events go; the first retention's event, from today, stops the range.
    expect(outcome).toMatchObject({ removed: RECENT_EVENTS, fromSeq: OLD_EVENTS + 1, toSeq: OLD_EVENTS + RECENT_EVENTS });
    expect(await verify()).toMatchObject({
      intact: true,
      anchorSeq: OLD_EVENTS + RECENT_EVENTS,
      events: (before.events ?? 0) - RECENT_EVENTS + 1,
    });
    expect((await verifyFile('second.jsonl')).code).toBe(0);
  });

  it('shows an anchor changed by hand, and one moved on to hide more events removed', async () => {
    const anchor = OLD_EVENTS + RECENT_EVENTS;
    const [{ hash }] = await database().query<Array<{ hash: Buffer }>>(`SELECT hash FROM audit_chain_anchor`);
    await database().query(`UPDATE audit_chain_anchor SET hash = $1`, [randomBytes(32)]);
    expect(await verify()).toMatchObject({
      intact: false,
      brokenAt: anchor + 1,
      problem: `event ${anchor + 1} does not follow the retention anchor (event ${anchor})`,
    });
    await database().query(`UPDATE audit_chain_anchor SET hash = $1`, [hash]);
    expect((await verify()).intact).toBe(true);

    // Without the key no retention event can be forged for it: the chain from the new anchor holds, the record does not.
    const newest = await event(anchor + 1);
    await tamper(`DELETE FROM audit_events WHERE seq = $1`, [anchor + 1]);
    await database().query(`UPDATE audit_chain_anchor SET seq = $1, hash = $2`, [anchor + 1, newest.hash]);
    expect(await verify()).toMatchObject({
      intact: false,
      brokenAt: anchor + 1,
      problem: expect.stringMatching(
        `^the retention anchor \\(event ${anchor + 1}\\) is not the one the newest audit.retention event \\(\\d+\\) recorded$`,
      ),
    });
  });
});

describeOnPostgresServer('npm run audit:retain', () => {
  let database: TestDatabase;
  const fixture = rackAndGateway(async () => {
    database = await createTestDatabase();
    return { env: { DATABASE_URL: database.url ?? '', AUDIT_AGGREGATE_READS_SECONDS: '0' } };
  });
  const directory = mkdtempSync(join(tmpdir(), 'rgw-audit-retain-cli-'));

  afterAll(async () => {
    await database.drop();
    rmSync(directory, { recursive: true, force: true });
  });

  const command = (script: string, args: string[], env: Record<string, string> = {}) =>
    runScript(script, args, {
      NODE_ENV: 'development',
      RACK_HOST: fixture.rack.url,
      RACK_TOKEN: fixture.rack.password,
      DATABASE_URL: database.url ?? '',
      APP_SECRET_KEY: fixture.gateway.config.sessions.secret,
      LOG_LEVEL: 'error',
      ...env,
    });

  it('archives and removes what is older than AUDIT_RETENTION_DAYS; the database and the archive verify', async () => {
    await appendOldAndRecent(fixture.gateway.app.get(DataSource), fixture.gateway.app.get(AuditKey).value);
    const archive = join(directory, 'audit-archive.jsonl');

    expect(await command('src/cli/audit-retain.ts', ['--archive', archive])).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('--before is needed unless AUDIT_RETENTION_DAYS is set'),
    });
    const retained = await command('src/cli/audit-retain.ts', ['--archive', archive], { AUDIT_RETENTION_DAYS: '30' });
    expect(retained).toMatchObject({
      code: 0,
      stdout: expect.stringMatching(
        `^removed events 1 to ${OLD_EVENTS} \\(${OLD_EVENTS}\\), archived to ${archive} \\(sha256 [0-9a-f]{64}\\); the chain now starts after event ${OLD_EVENTS}, and event \\d+ records this retention\\n$`,
      ),
    });
    expect(await command('src/cli/audit-verify.ts', [])).toMatchObject({
      code: 0,
      stdout: expect.stringMatching(
        `^audit chain intact: ${RECENT_EVENTS + 1} events after the retention anchor \\(event ${OLD_EVENTS}\\), head [0-9a-f]{64}\\n$`,
      ),
    });
    expect(await command('src/cli/audit-verify.ts', ['--file', archive])).toMatchObject({
      code: 0,
      stdout: expect.stringMatching(`^audit chain intact: ${OLD_EVENTS} events, head [0-9a-f]{64}\\n$`),
    });
  });
});

import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { AuditCheckpoints } from '../../src/audit/audit-checkpoints';
import { AuditVerifier } from '../../src/audit/audit-verifier.service';
import { rackAndGateway } from '../support/gateway-fixture';
import { runScript } from '../support/run-script';
import { TestDatabase, createTestDatabase, describeOnPostgresServer } from '../support/test-database';
import { basicAuth } from '../support/test-gateway';

/**
 * The chain against someone with write access to the database: every change the triggers would
 * refuse is made here by turning them off first, as a database owner could, and the verifier must
 * name the first link that no longer holds.
 */
describe('the audit chain', () => {
  const fixture = rackAndGateway({ env: { AUDIT_AGGREGATE_READS_SECONDS: '0' } });
  let events: number;

  const database = () => fixture.gateway.app.get(DataSource);
  const verify = () => fixture.gateway.app.get(AuditVerifier).verify();
  /** Runs `sql` with the append-only triggers off, as an owner of the database could. */
  const tamper = async (sql: string, parameters: unknown[] = []) => {
    await database().query(`ALTER TABLE audit_events DISABLE TRIGGER USER`);
    try {
      await database().query(sql, parameters);
    } finally {
      await database().query(`ALTER TABLE audit_events ENABLE TRIGGER USER`);
    }
  };
  const row = async (seq: number) =>
    (await database().query<Array<Record<string, unknown>>>(`SELECT * FROM audit_events WHERE seq = $1`, [seq]))[0];
  /** Puts a row back as it was read (bytea as Postgres hex), at `seq`. */
  const reinsert = (content: Record<string, unknown>, seq = content.seq) =>
    tamper(`INSERT INTO audit_events SELECT * FROM json_populate_record(null::audit_events, $1::json)`, [
      JSON.stringify({ ...content, seq }, (_key, value: unknown) =>
        (value as { type?: string })?.type === 'Buffer' ? `\\x${Buffer.from((value as { data: number[] }).data).toString('hex')}` : value,
      ),
    ]);

  beforeAll(async () => {
    const { token } = await fixture.gateway.createUserWithToken('viewer@example.com', 'viewer');
    for (let request = 0; request < 8; request += 1) {
      await fetch(`${fixture.gateway.url}/apps?page=${request}`, { headers: { authorization: basicAuth(token) } });
    }
    for (let attempt = 0; attempt < 100; attempt += 1) {
      const [{ count }] = await database().query<Array<{ count: string }>>(`SELECT count(*) AS count FROM audit_events`);
      events = Number(count);
      if (events >= 8) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(events).toBeGreaterThanOrEqual(8);
  });

  it('holds as written', async () => {
    expect(await verify()).toEqual({ intact: true, events, headHash: expect.stringMatching(/^[0-9a-f]{64}$/) });
  });

  it('refuses UPDATE, DELETE and TRUNCATE outright', async () => {
    await expect(database().query(`UPDATE audit_events SET status = 500 WHERE seq = 1`)).rejects.toThrow('append-only');
    await expect(database().query(`DELETE FROM audit_events WHERE seq = 1`)).rejects.toThrow('append-only');
    await expect(database().query(`TRUNCATE audit_events`)).rejects.toThrow('append-only');
    expect((await verify()).intact).toBe(true);
  });

  it('shows an event changed in place', async () => {
    const original = await row(3);
    await tamper(`UPDATE audit_events SET status = 204 WHERE seq = 3`);
    expect(await verify()).toMatchObject({ intact: false, brokenAt: 3, events: 2, problem: 'event 3 was changed after it was written' });
    await tamper(`UPDATE audit_events SET status = $1 WHERE seq = 3`, [original.status]);
    expect((await verify()).intact).toBe(true);
  });

  it('shows an event removed', async () => {
    const original = await row(4);
    await tamper(`DELETE FROM audit_events WHERE seq = 4`);
    expect(await verify()).toMatchObject({ intact: false, brokenAt: 4, problem: 'event 4 is missing' });
    await reinsert(original);
    expect((await verify()).intact).toBe(true);
  });

  it('shows two events swapped', async () => {
    const [fifth, sixth] = [await row(5), await row(6)];
    await tamper(`DELETE FROM audit_events WHERE seq IN (5, 6)`);
    await reinsert(sixth, 5);
    await reinsert(fifth, 6);
    expect(await verify()).toMatchObject({ intact: false, brokenAt: 5, problem: 'event 5 does not follow event 4' });
    await tamper(`DELETE FROM audit_events WHERE seq IN (5, 6)`);
    await reinsert(fifth);
    await reinsert(sixth);
    expect((await verify()).intact).toBe(true);
  });

  it('shows the newest events removed', async () => {
    const newest = await database().query<Array<{ seq: string }>>(`SELECT seq FROM audit_events ORDER BY seq DESC LIMIT 1`);
    const last = Number(newest[0].seq);
    await tamper(`DELETE FROM audit_events WHERE seq = $1`, [last]);
    expect(await verify()).toMatchObject({
      intact: false,
      brokenAt: last,
      problem: `the chain ends at event ${last - 1}, but ${last} were written`,
    });
  });
});

describeOnPostgresServer('npm run audit:verify', () => {
  let database: TestDatabase;
  const fixture = rackAndGateway(async () => {
    database = await createTestDatabase();
    return { env: { DATABASE_URL: database.url ?? '', AUDIT_AGGREGATE_READS_SECONDS: '0' } };
  });

  afterAll(() => database.drop());

  const verifyCommand = () =>
    runScript('src/cli/audit-verify.ts', [], {
      NODE_ENV: 'development',
      RACK_HOST: fixture.rack.url,
      RACK_TOKEN: fixture.rack.password,
      DATABASE_URL: database.url ?? '',
      APP_SECRET_KEY: fixture.gateway.config.sessions.secret,
      LOG_LEVEL: 'error',
    });

  it('exits 0 on an intact chain and 1 naming the first broken link', async () => {
    const { token } = await fixture.gateway.createUserWithToken('viewer@example.com', 'viewer');
    for (let request = 0; request < 3; request += 1) {
      await fetch(`${fixture.gateway.url}/apps`, { headers: { authorization: basicAuth(token) } });
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
    const intact = await verifyCommand();
    expect(intact).toMatchObject({ code: 0, stdout: expect.stringMatching(/^audit chain intact: \d+ events, head [0-9a-f]{64}\n$/) });

    const dataSource = fixture.gateway.app.get(DataSource);
    await dataSource.query(`ALTER TABLE audit_events DISABLE TRIGGER USER`);
    await dataSource.query(`UPDATE audit_events SET actor_email = 'someone.else@example.com' WHERE seq = 2`);
    await dataSource.query(`ALTER TABLE audit_events ENABLE TRIGGER USER`);
    const broken = await verifyCommand();
    expect(broken).toMatchObject({
      code: 1,
      stdout: 'audit chain BROKEN at event 2: event 2 was changed after it was written; every event before it holds\n',
    });
  });
});

describeOnPostgresServer('two gateway instances appending to one audit chain', () => {
  let database: TestDatabase;
  const settings = async () => {
    database ??= await createTestDatabase();
    return { env: { DATABASE_URL: database.url ?? '', AUDIT_AGGREGATE_READS_SECONDS: '0' } };
  };
  const first = rackAndGateway(settings);
  const second = rackAndGateway(settings);

  afterAll(() => database.drop());

  it('keep one unbroken chain, and every change that reached the rack has its intent', async () => {
    const { token } = await first.gateway.createUserWithToken('ops@example.com', 'ops');
    const restart = (gateway: typeof first.gateway) =>
      fetch(`${gateway.url}/apps/myapp/services/web/restart`, { method: 'POST', headers: { authorization: basicAuth(token) } });
    const statuses = await Promise.all(Array.from({ length: 40 }, (_, index) => restart(index % 2 === 0 ? first.gateway : second.gateway)));
    expect(statuses.every((response) => response.status === 200)).toBe(true);

    const dataSource = first.gateway.app.get(DataSource);
    const intents = await dataSource.query<Array<{ request_id: string }>>(`SELECT request_id FROM audit_events WHERE kind = 'rack.intent'`);
    const restartsAtRacks = [...first.rack.requests(), ...second.rack.requests()].filter((entry) => entry.path.endsWith('/restart'));
    expect(restartsAtRacks).toHaveLength(40);
    expect(intents).toHaveLength(40);
    for (let attempt = 0; attempt < 100; attempt += 1) {
      const [{ count }] = await dataSource.query<Array<{ count: string }>>(
        `SELECT count(*) AS count FROM audit_events WHERE kind = 'rack.exchange' AND method = 'POST'`,
      );
      if (Number(count) >= 40) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(await first.gateway.app.get(AuditVerifier).verify()).toMatchObject({ intact: true });
    expect(await second.gateway.app.get(AuditVerifier).verify()).toMatchObject({ intact: true });
  });
});

describe('the audit chain against checkpoints kept outside the database', () => {
  const directory = mkdtempSync(join(tmpdir(), 'rgw-checkpoints-'));
  const fixture = rackAndGateway({ env: { AUDIT_AGGREGATE_READS_SECONDS: '0', AUDIT_CHECKPOINT_DIR: directory } });

  afterAll(() => rmSync(directory, { recursive: true, force: true }));

  it('shows the newest events removed even when the head was set back to match', async () => {
    const dataSource = fixture.gateway.app.get(DataSource);
    const { token } = await fixture.gateway.createUserWithToken('viewer@example.com', 'viewer');
    for (let request = 0; request < 4; request += 1) {
      await fetch(`${fixture.gateway.url}/apps?n=${request}`, { headers: { authorization: basicAuth(token) } });
    }
    let newest = 0;
    for (let attempt = 0; attempt < 100 && newest < 4; attempt += 1) {
      newest = Number((await dataSource.query<Array<{ seq: string }>>(`SELECT seq FROM audit_chain_head`))[0].seq);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await fixture.gateway.app.get(AuditCheckpoints).write();
    expect(readdirSync(directory)).toHaveLength(1);
    expect(await fixture.gateway.app.get(AuditVerifier).verify()).toMatchObject({ intact: true });

    // Someone with the database removes the newest event and sets the head back: the chain alone holds.
    const previous = (await dataSource.query<Array<{ hash: Buffer }>>(`SELECT hash FROM audit_events WHERE seq = $1`, [newest - 1]))[0];
    await dataSource.query(`ALTER TABLE audit_events DISABLE TRIGGER USER`);
    await dataSource.query(`DELETE FROM audit_events WHERE seq = $1`, [newest]);
    await dataSource.query(`ALTER TABLE audit_events ENABLE TRIGGER USER`);
    await dataSource.query(`UPDATE audit_chain_head SET seq = $1, hash = $2`, [newest - 1, previous.hash]);

    const verdict = await fixture.gateway.app.get(AuditVerifier).verify();
    expect(verdict).toMatchObject({
      intact: false,
      brokenAt: newest,
      problem: expect.stringMatching(`^the chain ends at event ${newest - 1}, but a checkpoint of .* saw ${newest}$`),
    });
  });
});

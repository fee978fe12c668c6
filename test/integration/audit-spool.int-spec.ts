import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { AuditTrail } from '../../src/audit/audit-trail.service';
import { AuditVerifier } from '../../src/audit/audit-verifier.service';
import { type CutDatabase, cutDatabase } from '../support/cut-database';
import { type MockRack, startMockRack } from '../support/mock-rack';
import { type TestGateway, basicAuth, startTestGateway } from '../support/test-gateway';
import { RackSocket } from '../support/websocket-client';

const OUTAGE_MS = 10_000;
const READ_PATHS = ['/apps', '/apps/myapp', '/apps/myapp/processes', '/apps/myapp/builds', '/apps/myapp/releases'];

/** A request sent under load, known by its User-Agent, which its audit events record. */
interface Sent {
  readonly agent: string;
  status?: number;
}

interface StoredEvent {
  seq: string;
  kind: string;
  user_agent: string | null;
}

/** Polls `probe` until it returns something, rather than sleeping for a guess. */
async function until<T>(probe: () => Promise<T | undefined> | T | undefined, what: string, timeoutMs = 30_000): Promise<T> {
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline;) {
    const found = await probe();
    if (found !== undefined && found !== false) return found;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** A test gateway whose database is reached through a TcpCut, and a rack. */
function gatewayWithCutDatabase(env: Record<string, string> = {}) {
  const context = {} as { rack: MockRack; database: CutDatabase; gateway: TestGateway; spoolDir: string };
  beforeAll(async () => {
    context.rack = await startMockRack();
    context.database = await cutDatabase();
    context.spoolDir = mkdtempSync(join(tmpdir(), 'rgw-spool-test-'));
    context.gateway = await startTestGateway({
      rackUrl: context.rack.url,
      rackToken: context.rack.password,
      env: { AUDIT_AGGREGATE_READS_SECONDS: '0', AUDIT_SPOOL_DIR: context.spoolDir, ...context.database.env, ...env },
    });
  }, 60_000);
  afterAll(async () => {
    await context.gateway?.close();
    await context.database?.close();
    await context.rack?.close();
    rmSync(context.spoolDir, { recursive: true, force: true });
  });
  return context;
}

function loadOf(gateway: TestGateway) {
  const sent: Sent[] = [];
  const send = async (agent: string, token: string, path: string, method = 'GET'): Promise<Sent> => {
    const request: Sent = { agent };
    sent.push(request);
    try {
      const response = await fetch(`${gateway.url}${path}`, { method, headers: { authorization: basicAuth(token), 'user-agent': agent } });
      await response.arrayBuffer();
      request.status = response.status;
    } catch {
      // No answer: nothing promised, nothing to find.
    }
    return request;
  };
  return { sent, send };
}

const events = (gateway: TestGateway, where = 'true', parameters: unknown[] = []) =>
  gateway.app
    .get(DataSource)
    .query<StoredEvent[]>(`SELECT seq, kind, user_agent FROM audit_events WHERE ${where} ORDER BY seq`, parameters);

/** Every answered request of `sent` has an event with its agent: the events, once they all do. */
function allRecorded(gateway: TestGateway, sent: readonly Sent[]): Promise<StoredEvent[]> {
  const answered = sent.filter((request) => request.status !== undefined).map(({ agent }) => agent);
  return until(async () => {
    const found = await events(gateway, `user_agent = ANY($1)`, [answered]);
    const agents = new Set(found.map((event) => event.user_agent));
    return answered.every((agent) => agents.has(agent)) ? found : undefined;
  }, `an audit event for each of ${answered.length} answered requests`);
}

describe('the audit trail while its database is away for 10 s under a read load', () => {
  const context = gatewayWithCutDatabase();

  it('spools what the database cannot take and replays it in order, refusing changes meanwhile; nothing is lost', async () => {
    const { gateway, rack, database } = context;
    const embedded = database.env.DATABASE_URL === undefined;
    const { token: viewer } = await gateway.createUserWithToken('viewer@example.com', 'viewer');
    const { token: ops } = await gateway.createUserWithToken('ops@example.com', 'ops');
    const { sent, send } = loadOf(gateway);
    // Checked against the database once; then, on the embedded engine, from memory.
    for (const token of [viewer, ops]) expect((await send(`warm-${token.slice(-6)}`, token, '/apps')).status).toBe(200);

    let stopped = false;
    const readers = Array.from({ length: 4 }, async (_, reader) => {
      for (let n = 0; !stopped; n += 1) await send(`read-${reader}-${n}`, viewer, READ_PATHS[n % READ_PATHS.length]);
    });
    const answeredReads = () => sent.filter((request) => request.agent.startsWith('read-') && request.status !== undefined).length;
    const before = await until(() => (answeredReads() >= 40 ? answeredReads() : undefined), 'reads before the outage');

    database.cut().cut();
    const outageEnds = Date.now() + OUTAGE_MS;
    const changes: Sent[] = [];
    for (let n = 0; Date.now() < outageEnds; n += 1) {
      changes.push(await send(`change-${n}`, ops, '/apps/myapp/services/web/restart', 'POST'));
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    const duringOutage = answeredReads() - before;
    // The gateway's own API, which reads the database for its answer, says so: try again, not a 500.
    const listing = await fetch(`${gateway.url}/api/v1/tokens`, { headers: { authorization: basicAuth(ops) } });
    expect(listing.status).toBe(503);
    expect(listing.headers.get('retry-after')).toBe('5');
    expect(await listing.json()).toMatchObject({ status: 503, code: 'database_unavailable' });
    if (!embedded) {
      // A websocket's token check, on a server, needs the database too: refused the rack's way, saying why.
      const logs = await RackSocket.open(`${gateway.url}/apps/myapp/logs`, { authorization: basicAuth(viewer), follow: 'false' });
      await logs.untilEnd();
      expect(logs.output().toString('utf8')).toBe('ERROR: the gateway cannot reach its database; try again shortly\n');
      logs.close();
    }
    expect(gateway.app.get(AuditTrail).spooled).toBeGreaterThan(0);
    expect(readdirSync(context.spoolDir)).not.toHaveLength(0);
    database.cut().restore();
    await until(() => answeredReads() >= before + duringOutage + 40 || undefined, 'reads after the outage');
    stopped = true;
    await Promise.all(readers);

    // The database was really gone, and no change reached the rack while it was.
    expect(database.cut().refused).toBeGreaterThan(0);
    expect(changes.length).toBeGreaterThan(20);
    for (const change of changes) expect(change.status).toBe(503);
    const changeAgents = new Set(changes.map(({ agent }) => agent));
    expect(rack.requests().filter((entry) => changeAgents.has(entry.headers['user-agent']))).toEqual([]);
    const readStatuses = new Set(sent.filter((request) => request.agent.startsWith('read-')).map((request) => request.status));
    if (embedded) {
      // Tokens come from memory meanwhile: reads go on.
      expect(duringOutage).toBeGreaterThan(40);
      expect(readStatuses).toEqual(new Set([200]));
    } else {
      // On a server, a token is checked against it whenever revocations cannot be heard: reads were
      // refused meanwhile, as unavailable (try again), and those refusals recorded.
      expect(readStatuses).toEqual(new Set([200, 503]));
    }

    const recorded = await allRecorded(gateway, sent);
    const readAgentsAtRack = rack
      .requests()
      .map((entry) => entry.headers['user-agent'])
      .filter((agent) => agent.startsWith('read-'));
    const exchanged = new Set(recorded.filter((event) => event.kind === 'rack.exchange').map((event) => event.user_agent));
    expect(readAgentsAtRack.filter((agent) => !exchanged.has(agent))).toEqual([]);
    // A refused change leaves its refusal, never an intent.
    expect(recorded.filter((event) => changeAgents.has(event.user_agent ?? '')).map((event) => event.kind)).toEqual(
      changes.map(() => 'request.refused'),
    );
    // Each reader's requests follow one another, and so do their events in the chain: spooled events
    // went in before anything that came after them.
    for (let reader = 0; reader < 4; reader += 1) {
      const order = recorded
        .map((event) => event.user_agent ?? '')
        .filter((agent) => agent.startsWith(`read-${reader}-`))
        .map((agent) => Number(agent.split('-')[2]));
      expect(order).toEqual([...order].sort((a, b) => a - b));
    }
    expect(await gateway.app.get(AuditVerifier).verify()).toMatchObject({ intact: true });
    await until(() => readdirSync(context.spoolDir).length === 0 || undefined, 'the spool to be emptied');
    expect(gateway.app.get(AuditTrail).spooled).toBe(0);
  }, 60_000);
});

describe('the audit trail when its spool cannot be written either', () => {
  const context = gatewayWithCutDatabase();

  it('refuses requests (503) rather than lose their events, and takes them again once the database is back', async () => {
    const { gateway, database } = context;
    const trail = gateway.app.get(AuditTrail);
    const { token: viewer } = await gateway.createUserWithToken('viewer@example.com', 'viewer');
    const { sent, send } = loadOf(gateway);
    expect((await send('warm', viewer, '/apps')).status).toBe(200);
    // A file where the spool's directory was: nothing can be appended under it, even by root.
    rmSync(context.spoolDir, { recursive: true });
    writeFileSync(context.spoolDir, 'not a directory');

    database.cut().cut();
    let n = 0;
    await until(async () => {
      await send(`read-${(n += 1)}`, viewer, '/apps/myapp');
      return trail.accepting ? undefined : true;
    }, 'the trail to stop accepting');
    const refused = await send(`read-${(n += 1)}`, viewer, '/apps/myapp');
    // On a server, the token check needs the database too, and refuses first: unavailable either way.
    expect(refused.status).toBe(503);
    database.cut().restore();
    await until(async () => ((await send(`read-${(n += 1)}`, viewer, '/apps/myapp')).status === 200 ? true : undefined), 'reads again');

    const recorded = await allRecorded(gateway, sent);
    expect(recorded.find((event) => event.user_agent === refused.agent)).toMatchObject({ kind: 'request.refused' });
    expect(await gateway.app.get(AuditVerifier).verify()).toMatchObject({ intact: true });
    rmSync(context.spoolDir);
  }, 60_000);
});

describe('the audit trail at start', () => {
  const spoolDir = mkdtempSync(join(tmpdir(), 'rgw-spool-left-'));
  const record = (agent: string) => ({
    id: randomUUID(),
    occurredAt: new Date().toISOString(),
    kind: 'rack.exchange',
    requestId: randomUUID(),
    actorEmail: 'someone@example.com',
    actorTokenId: null,
    clientIp: '127.0.0.1',
    userAgent: agent,
    method: 'GET',
    path: '/apps',
    route: 'GET /apps',
    action: 'read',
    subject: 'apps',
    app: null,
    decision: 'allowed',
    reason: null,
    status: 200,
    durationMs: 3,
    bytesIn: 0,
    bytesOut: 120,
    details: { queryKeys: [], transport: 'http', completed: true },
  });
  const spoolOf = (owner: string, agents: string[]) =>
    writeFileSync(join(spoolDir, `${hostname()}.${owner}.1.jsonl`), agents.map((agent) => `${JSON.stringify(record(agent))}\n`).join(''));
  const context = {} as { rack: MockRack; gateway: TestGateway };
  beforeAll(async () => {
    // A process that is gone, its last line cut short by the crash; and one still running (this test's parent).
    spoolOf(`999999999.0123456789ab`, ['left-1', 'left-2', 'left-3']);
    writeFileSync(join(spoolDir, `${hostname()}.999999999.0123456789ab.1.jsonl`), '{"id": "cut sh', { flag: 'a' });
    spoolOf(`${process.ppid}.ba9876543210`, ['alive-1']);
    context.rack = await startMockRack();
    context.gateway = await startTestGateway({
      rackUrl: context.rack.url,
      rackToken: context.rack.password,
      env: { AUDIT_SPOOL_DIR: spoolDir },
    });
  }, 60_000);
  afterAll(async () => {
    await context.gateway?.close();
    await context.rack?.close();
    rmSync(spoolDir, { recursive: true, force: true });
  });

  it('replays, in order, the spool a stopped process left, and leaves a running one’s alone', async () => {
    const replayed = await until(async () => {
      const found = await events(context.gateway, `user_agent LIKE 'left-%'`);
      return found.length === 3 ? found : undefined;
    }, 'the abandoned spool to be replayed');
    expect(replayed.map((event) => event.user_agent)).toEqual(['left-1', 'left-2', 'left-3']);
    await until(() => readdirSync(spoolDir).length === 1 || undefined, 'the replayed file to be removed');
    expect(readdirSync(spoolDir)).toEqual([`${hostname()}.${process.ppid}.ba9876543210.1.jsonl`]);
    expect(await events(context.gateway, `user_agent = 'alive-1'`)).toEqual([]);
    expect(await context.gateway.app.get(AuditVerifier).verify()).toMatchObject({ intact: true });
  });
});

import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { EmbeddedPostgres } from '../../src/database/embedded-postgres';
import { startGatewayProcess } from '../support/gateway-process';
import { type MockRack, startMockRack } from '../support/mock-rack';
import { runScript } from '../support/run-script';
import { type TcpCut, addressOf, startTcpCut } from '../support/tcp-cut';
import { type TestDatabase, createTestDatabase, describeOnPostgresServer } from '../support/test-database';
import { basicAuth } from '../support/test-gateway';

const ADMIN = 'oncall@example.com';
const RESTART = '/apps/myapp/services/web/restart';
/**
 * Outcomes of changes take 30 ms to write (a trigger sleeps), as on a slow disk: an answer that went
 * out before its outcome was written would leave the kill a wide window to catch it in.
 */
const SLOW_OUTCOME_WRITES = `
  CREATE FUNCTION slow_outcome() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    IF NEW.kind = 'rack.exchange' AND NEW.method = 'POST' THEN PERFORM pg_sleep(0.03); END IF;
    RETURN NEW;
  END $$;
  CREATE TRIGGER slow_outcome BEFORE INSERT ON audit_events FOR EACH ROW EXECUTE FUNCTION slow_outcome();`;

interface ExportedEvent {
  kind: string;
  requestId: string | null;
  userAgent: string | null;
  status: number | null;
}

/** A change sent under load, known by its User-Agent, which the rack's journal and the audit events keep. */
interface Sent {
  readonly agent: string;
  /** The status the client got, if it got an answer. */
  status?: number;
  ended?: true;
}

/**
 * Gateways as operators run them (src/main.ts), on one database and one spool directory, for the
 * enclosing `describe`; each test kills one with SIGKILL (no shutdown hook runs, nothing queued in
 * memory is written) and starts another.
 */
function crashFixture(options: {
  /** Reach the database through a TcpCut (a server's only: the embedded engine is the gateway's own child). */
  readonly cut?: boolean;
  /** Run on the database once it is built, before any gateway starts. */
  readonly sql?: string;
}) {
  const fixture = {} as {
    rack: MockRack;
    database: TestDatabase;
    cut: TcpCut | undefined;
    directory: string;
    env: Record<string, string>;
    token: string;
    gateways: ChildProcess[];
    loads: Array<Promise<void>>;
  };
  beforeAll(async () => {
    fixture.rack = await startMockRack();
    fixture.database = await createTestDatabase();
    fixture.directory = mkdtempSync(join(tmpdir(), 'rgw-crash-'));
    fixture.gateways = [];
    fixture.loads = [];
    const { url } = fixture.database;
    fixture.cut = options.cut && url ? await startTcpCut(addressOf(url)) : undefined;
    fixture.env = {
      NODE_ENV: 'development',
      HOST: '127.0.0.1',
      RACK_HOST: fixture.rack.url,
      RACK_TOKEN: fixture.rack.password,
      APP_SECRET_KEY: 'crash-test-secret-key-0123456789abcdef',
      ADMIN_USERS: ADMIN,
      MFA_REQUIRED: 'false',
      LOG_LEVEL: 'fatal',
      SHUTDOWN_GRACE_SECONDS: '0',
      AUDIT_AGGREGATE_READS_SECONDS: '0',
      AUDIT_SPOOL_DIR: join(fixture.directory, 'spool'),
      RATE_LIMIT_IP_PER_MINUTE: '1000000',
      RATE_LIMIT_READS_PER_MINUTE: '1000000',
      RATE_LIMIT_WRITES_PER_MINUTE: '1000000',
      ...(url ? { DATABASE_URL: fixture.cut?.through(url) ?? url } : { DATA_DIR: join(fixture.directory, 'data') }),
    };
    // The embedded engine serves one process: the token is made before a gateway takes the data directory.
    const created = await runScript('src/cli/create-token.ts', ['--user', ADMIN, '--name', 'crash'], fixture.env, 60_000);
    if (created.code !== 0) throw new Error(`token:create failed: ${created.stderr}`);
    fixture.token = created.stdout.trim();
    if (options.sql) await onDatabase(options.sql);
  }, 90_000);
  afterAll(async () => {
    // A test that failed midway leaves its load running: without gateways it ends.
    await Promise.all(fixture.gateways.map((gateway) => stopped(gateway)));
    await Promise.all(fixture.loads);
    await fixture.cut?.close();
    await fixture.rack?.close();
    await fixture.database?.drop();
    rmSync(fixture.directory, { recursive: true, force: true });
  });
  /** Runs `sql` while no gateway runs (the embedded engine serves one process). */
  async function onDatabase(sql: string): Promise<void> {
    const embedded = fixture.database.url ? undefined : await EmbeddedPostgres.start(join(fixture.directory, 'data'));
    const client = new Client({ connectionString: fixture.database.url ?? embedded?.connectionUrl });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
      await embedded?.stop();
    }
  }
  return {
    fixture,
    async startGateway(): Promise<string> {
      const gateway = await startGatewayProcess(fixture.env);
      fixture.gateways.push(gateway.process);
      return gateway.url;
    },
    /** Kills the newest gateway and waits until it, and (on the embedded engine) its database's process, are gone. */
    async kill(): Promise<void> {
      await stopped(fixture.gateways[fixture.gateways.length - 1]);
      await until(() => !processRunningWith(join(fixture.directory, 'data')) || undefined, 'the embedded engine to stop');
    },
    /** Workers sending `path` (a change) one after another, each request with an agent of its own, until stopped. */
    load(url: string, workers: number) {
      const sent: Sent[] = [];
      let stopping = false;
      const running = Array.from({ length: workers }, async (_, worker) => {
        for (let n = 0; !stopping; n += 1) {
          const request: Sent = { agent: `change-${worker}-${n}` };
          sent.push(request);
          try {
            const response = await fetch(`${url}${RESTART}`, {
              method: 'POST',
              headers: { authorization: basicAuth(fixture.token), 'user-agent': request.agent },
            });
            await response.arrayBuffer();
            request.status = response.status;
          } catch {
            // Cut off: the client never learned how it ended. After the kill, the gateway is gone.
            if (!fixture.gateways.some((gateway) => gateway.exitCode === null && gateway.signalCode === null)) return;
          } finally {
            request.ended = true;
          }
          // Refused (the database is away): no hurry to be refused again.
          if (request.status !== 200) await new Promise((done) => setTimeout(done, 50));
        }
      });
      fixture.loads.push(...running);
      return {
        sent,
        answered: () => sent.filter((request) => request.status === 200),
        stop: async () => {
          stopping = true;
          await Promise.all(running);
        },
      };
    },
    /** The agents of the changes that reached the rack. */
    changesAtRack(): string[] {
      return fixture.rack
        .requests()
        .map((entry) => entry.headers['user-agent'])
        .filter((agent) => agent.startsWith('change-'));
    },
    /**
     * Which changes lack their events: an intent for each the rack received, and an outcome for each of
     * `withOutcomes`, with the status its client got, if it got one.
     */
    async unrecorded(url: string, withOutcomes: readonly Sent[]) {
      const changesAtRack = this.changesAtRack();
      // What the restarted gateway replays (a spool the killed one left) may take it a moment.
      return eventually(
        async () => {
          const response = await fetch(`${url}/api/v1/audit/export`, { headers: { authorization: basicAuth(fixture.token) } });
          const events = (await response.text())
            .split('\n')
            .filter(Boolean)
            .map((line) => JSON.parse(line) as ExportedEvent);
          const intents = new Map(events.filter((event) => event.kind === 'rack.intent').map((event) => [event.userAgent, event]));
          const outcomes = new Map(events.filter((event) => event.kind === 'rack.exchange').map((event) => [event.requestId, event]));
          return {
            intentsMissing: changesAtRack.filter((agent) => !intents.has(agent)),
            outcomesMissing: withOutcomes
              .filter(({ agent, status }) => {
                const outcome = outcomes.get(intents.get(agent)?.requestId ?? '');
                return !outcome || (status !== undefined && outcome.status !== status);
              })
              .map(({ agent }) => agent),
          };
        },
        ({ intentsMissing, outcomesMissing }) => intentsMissing.length + outcomesMissing.length === 0,
      );
    },
    async verified(url: string): Promise<unknown> {
      return (await fetch(`${url}/api/v1/audit/verify`, { headers: { authorization: basicAuth(fixture.token) } })).json();
    },
  };
}

describe('a gateway killed (SIGKILL) under a load of changes', () => {
  const crash = crashFixture({ sql: SLOW_OUTCOME_WRITES });

  it('leaves an intent for every change the rack received, and an outcome for every change answered', async () => {
    const first = await crash.startGateway();
    const load = crash.load(first, 6);
    await until(() => load.answered().length >= 40 || undefined, 'changes answered before the kill');
    await crash.kill();
    await load.stop();

    const second = await crash.startGateway();
    const answered = load.answered();
    expect(answered.length).toBeGreaterThanOrEqual(40);
    expect(await crash.unrecorded(second, answered)).toEqual({ intentsMissing: [], outcomesMissing: [] });
    expect(await crash.verified(second)).toMatchObject({ intact: true });
    expect(readdirSync(crash.fixture.env.AUDIT_SPOOL_DIR)).toEqual([]);
  }, 120_000);
});

describeOnPostgresServer('a gateway killed (SIGKILL) while its database is away', () => {
  const crash = crashFixture({ cut: true });

  it('leaves its spool to the next start, which replays it: every change the rack received has its intent and its outcome', async () => {
    const { rack, env } = crash.fixture;
    const cut = crash.fixture.cut as TcpCut;
    // Changes spend long enough at the rack that some are there when the database goes.
    rack.injectFault({ method: 'POST', path: '/apps/{app}/services/{name}/restart', delayMs: 300 });
    const first = await crash.startGateway();
    const load = crash.load(first, 4);
    await until(() => load.answered().length >= 8 || undefined, 'changes answered before the outage');
    const inFlight = load.sent.filter((request) => !request.ended);
    cut.cut();
    // Those at the rack end (cut by the gateway: with the database gone it cannot tell whether their
    // tokens were revoked), and their outcomes go to the spool.
    await until(() => inFlight.every((request) => request.ended) || undefined, 'the changes in flight to end');
    const atRack = inFlight.filter((request) => crash.changesAtRack().includes(request.agent));
    expect(atRack.length).toBeGreaterThan(0);
    const spool = env.AUDIT_SPOOL_DIR;
    const spooledAgents = () =>
      readdirSync(spool).flatMap((name) =>
        readFileSync(join(spool, name), 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((line) => JSON.parse(line) as { kind: string; userAgent: string })
          .filter((event) => event.kind === 'rack.exchange')
          .map((event) => event.userAgent),
      );
    await until(() => atRack.every((request) => spooledAgents().includes(request.agent)) || undefined, 'their outcomes in the spool');
    await crash.kill();
    await load.stop();

    cut.restore();
    const second = await crash.startGateway();
    const reachedRack = load.sent.filter((request) => crash.changesAtRack().includes(request.agent));
    expect(await crash.unrecorded(second, reachedRack)).toEqual({ intentsMissing: [], outcomesMissing: [] });
    expect(await crash.verified(second)).toMatchObject({ intact: true });
    await until(() => readdirSync(spool).length === 0 || undefined, 'the spool to be replayed');
  }, 120_000);
});

function stopped(child: ChildProcess): Promise<void> {
  return new Promise((done) => {
    if (child.exitCode !== null || child.signalCode !== null) return done();
    child.once('exit', () => done());
    child.kill('SIGKILL');
  });
}

/** Whether any process on this (Linux) machine was started with `marker` in its command line. */
function processRunningWith(marker: string): boolean {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .some((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(marker);
      } catch {
        return false;
      }
    });
}

/** Probes until `done` holds or time is up; the last probe's value either way, for the assertion to show. */
async function eventually<T>(probe: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 20_000): Promise<T> {
  let value = await probe();
  for (const deadline = Date.now() + timeoutMs; !done(value) && Date.now() < deadline; value = await probe()) {
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return value;
}

async function until<T>(probe: () => T | undefined, what: string, timeoutMs = 30_000): Promise<T> {
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline;) {
    const found = probe();
    if (found !== undefined) return found;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

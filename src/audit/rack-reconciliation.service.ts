import { type BeforeApplicationShutdown, Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type QueryRunner } from 'typeorm';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config';
import { RackClient } from '../rack/rack-client';
import { parseRackJson } from '../rack/rack-json';
import { RACK_ROUTES } from '../rbac/rack-route-table';
import type { AuditRecord } from './audit-record';
import { gatewayEvent } from './audit-records';
import { AuditTrail } from './audit-trail.service';

/** Builds and releases of each app read per run, newest first: more than a busy app makes between two runs. */
const RECENT_PER_APP = 20;
/** A rack that stays silent this long fails the run; the next interval tries again. */
const RACK_TIMEOUT_MS = 30_000;
/** A change to an app whose outcome is not in the trail yet holds back judging that app's new items, this long at most. */
const IN_FLIGHT_MS = 60 * 60_000;
/** The advisory lock one instance at a time judges under (an arbitrary constant: "rgw-rcn"). */
const LOCK_KEY = '125779839611758';
/** What the rack is told made the calls (`Convox-Actor`), since no person did. */
const ACTOR = 'rack-gateway-reconciliation';
const DIRECT_ACCESS_KIND = 'rack.direct-access';
/** The routes whose audited outcomes name what they created (`createdIds`). */
const CREATING_ROUTES = RACK_ROUTES.filter((route) => route.creates).map((route) => `${route.method} ${route.path}`);

type Kind = 'build' | 'release';
type Verdict = 'baseline' | 'gateway' | 'direct';

/** A build or release as the rack lists it: what reconciliation needs of it. */
export interface RackItem {
  readonly kind: Kind;
  readonly id: string;
  readonly app: string;
  /** The rack's own time (`started` of a build, `created` of a release), as it wrote it. */
  readonly created: string;
  /** A build's release (once it made one); a release's build. */
  readonly link: string;
  /** A build's status. */
  readonly status?: string;
}

/** What one look at the rack found. */
interface RackListing {
  /** Each app's recent builds and releases: what is judged. */
  readonly recent: readonly RackItem[];
  /** Every build seen, by id, older ones that recent releases name included. */
  readonly builds: ReadonlyMap<string, RackItem>;
}

export interface ReconciliationOutcome {
  /** Another instance was judging: this run left it to it. */
  readonly skipped: boolean;
  /** The first run takes stock: what the rack holds then is not judged. */
  readonly baseline: number;
  /** New items an audited request through the gateway created. */
  readonly accounted: number;
  /** New items no audited request created, each now a `rack.direct-access` event. */
  readonly flagged: readonly RackItem[];
  /** New items left for a later run: a change to their app was still on its way into the trail. */
  readonly deferred: number;
}

/**
 * Lists the rack's recent builds and releases every AUDIT_RECONCILE_SECONDS and flags each that no
 * audited request through the gateway created (someone used the rack's credential directly), once,
 * as a `rack.direct-access` event and in `rack_gateway_rack_direct_access_total`. A build or release
 * is accounted for when its id is among the `createdIds` of a `rack.exchange` (the gateway reads them
 * from the rack's answer to a create), or, for a release, when its build is accounted for and names it
 * as the release it made. Ids, not times: the rack's clock is not the gateway's. Every item judged is
 * remembered (`audit_rack_resources`), so each is judged once; the first run only takes stock. Several
 * instances list the rack, and one at a time judges, under a transaction-scoped advisory lock held
 * only while it reads and writes the database (the embedded engine has a single connection, which a
 * lock held across the rack calls would take from every request).
 */
@Injectable()
export class RackReconciliation implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(RackReconciliation.name);
  private readonly flaggedByKind = new Map<Kind, number>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;
  private stopped = false;
  /** When a run last completed, for the metrics. */
  lastCompletedAt: Date | undefined;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    private readonly rack: RackClient,
    private readonly trail: AuditTrail,
  ) {}

  /** Items this instance flagged since it started, by kind. */
  flagged(kind: Kind): number {
    return this.flaggedByKind.get(kind) ?? 0;
  }

  /** The first run waits one interval too: starting gateways (a rolling deploy, a test) do not all list the rack at once. */
  onApplicationBootstrap(): void {
    if (this.config.audit.reconcileIntervalMs > 0) this.schedule(this.config.audit.reconcileIntervalMs);
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /** One run: list the rack, judge what is new, flag what no audited request made. */
  async reconcile(): Promise<ReconciliationOutcome> {
    const judged = await this.judge(await this.listRack());
    if (!judged) return { skipped: true, baseline: 0, accounted: 0, flagged: [], deferred: 0 };
    const flagged = await this.flag(judged.direct);
    this.lastCompletedAt = new Date();
    return { skipped: false, baseline: judged.baseline, accounted: judged.accounted, flagged, deferred: judged.deferred };
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.reconcile()
        .catch((error: Error) => this.logger.error(`reconciliation with the rack failed, retrying next interval: ${error.message}`))
        .finally(() => {
          this.running = undefined;
          this.schedule(this.config.audit.reconcileIntervalMs);
        });
    }, delayMs).unref();
  }

  /** The recent builds and releases of every app, and every build they name (the recent ones' releases' builds). */
  private async listRack(): Promise<RackListing> {
    const apps = (await this.read('/apps')).flatMap((app) => (typeof app.name === 'string' ? [app.name] : []));
    const recent: RackItem[] = [];
    const builds = new Map<string, RackItem>();
    for (const app of apps) {
      const base = `/apps/${encodeURIComponent(app)}`;
      // An app deleted between the two calls is simply gone.
      const appBuilds = (await this.read(`${base}/builds?limit=${RECENT_PER_APP}`).catch(() => [])).flatMap((build) =>
        item('build', app, build),
      );
      const releases = (await this.read(`${base}/releases?limit=${RECENT_PER_APP}`).catch(() => [])).flatMap((release) =>
        item('release', app, release),
      );
      recent.push(...appBuilds, ...releases);
      for (const build of appBuilds) builds.set(build.id, build);
      // A release's build may be older than the recent ones: its own release is what tells whose release it is.
      for (const id of new Set(releases.map((release) => release.link).filter((id) => id && !builds.has(id)))) {
        const [build] = await this.read(`${base}/builds/${encodeURIComponent(id)}`).catch(() => []);
        for (const found of build ? item('build', app, build) : []) builds.set(found.id, found);
      }
    }
    return { recent: unique(recent), builds };
  }

  /** A rack answer as a list of objects (a single object is a list of one). */
  private async read(path: string): Promise<Array<Record<string, unknown>>> {
    const answer = await this.rack.get(path, ACTOR, RACK_TIMEOUT_MS);
    if (answer.status !== 200) throw new Error(`the rack answered ${answer.status} to GET ${path.split('?', 1)[0]}`);
    const parsed = parseRackJson(answer.body);
    if (parsed === undefined) throw new Error(`the rack's answer to GET ${path.split('?', 1)[0]} is not JSON`);
    const list = Array.isArray(parsed) ? (parsed as unknown[]) : [parsed];
    return list.filter((entry): entry is Record<string, unknown> => entry !== null && typeof entry === 'object');
  }

  /** Judges what is new under the lock, in one transaction; undefined when another instance holds the lock. */
  private async judge(
    listing: RackListing,
  ): Promise<{ baseline: number; accounted: number; deferred: number; direct: RackItem[] } | undefined> {
    const runner = this.dataSource.createQueryRunner();
    await runner.connect();
    try {
      await runner.startTransaction();
      const [{ locked }] = (await runner.query(`SELECT pg_try_advisory_xact_lock($1) AS locked`, [LOCK_KEY])) as Array<{ locked: boolean }>;
      if (!locked) {
        await runner.rollbackTransaction();
        return undefined;
      }
      const judged = await this.judgeLocked(runner, listing);
      await runner.commitTransaction();
      return judged;
    } catch (error) {
      if (runner.isTransactionActive) await runner.rollbackTransaction();
      throw error;
    } finally {
      await runner.release();
    }
  }

  private async judgeLocked(runner: QueryRunner, { recent, builds }: RackListing) {
    const [state] = (await runner.query(`SELECT last_run_at FROM audit_rack_reconciliation WHERE id = 1 FOR UPDATE`)) as unknown[];
    const known = new Map<string, Verdict>();
    const rows = (await runner.query(`SELECT kind, id, verdict FROM audit_rack_resources WHERE id = ANY($1)`, [
      [...new Set([...recent.map((candidate) => candidate.id), ...builds.keys()])],
    ])) as Array<{ kind: Kind; id: string; verdict: Verdict }>;
    for (const row of rows) known.set(`${row.kind}:${row.id}`, row.verdict);
    const fresh = recent.filter((candidate) => !known.has(key(candidate)));
    const verdicts = new Map<string, Verdict>();
    let deferred = 0;
    if (state === undefined) {
      for (const candidate of fresh) verdicts.set(key(candidate), 'baseline');
    } else {
      const created = await this.createdThroughGateway(runner, fresh);
      const busy = await this.appsWithChangesInFlight(runner);
      // Builds first: a release is its build's when the build names it as the release it made.
      for (const candidate of [...fresh].sort((a, b) => (a.kind === b.kind ? 0 : a.kind === 'build' ? -1 : 1))) {
        const verdict = this.verdictOf(candidate, created, busy, builds, (id) => verdicts.get(`build:${id}`) ?? known.get(`build:${id}`));
        if (verdict) verdicts.set(key(candidate), verdict);
        else deferred += 1;
      }
    }
    const judged = fresh.filter((candidate) => verdicts.has(key(candidate)));
    const inserted = judged.length
      ? ((await runner.query(
          `INSERT INTO audit_rack_resources (kind, id, app, verdict, rack_created_at)
           SELECT * FROM unnest($1::varchar[], $2::varchar[], $3::varchar[], $4::varchar[], $5::varchar[])
           ON CONFLICT (kind, id) DO NOTHING RETURNING kind, id`,
          [
            judged.map((candidate) => candidate.kind),
            judged.map((candidate) => candidate.id),
            judged.map((candidate) => candidate.app),
            judged.map((candidate) => verdicts.get(key(candidate))),
            judged.map((candidate) => candidate.created || null),
          ],
        )) as Array<{ kind: Kind; id: string }>)
      : [];
    await runner.query(
      `INSERT INTO audit_rack_reconciliation (id, last_run_at) VALUES (1, now()) ON CONFLICT (id) DO UPDATE SET last_run_at = now()`,
    );
    const insertedKeys = new Set(inserted.map((row) => `${row.kind}:${row.id}`));
    const direct = judged.filter((candidate) => verdicts.get(key(candidate)) === 'direct' && insertedKeys.has(key(candidate)));
    const count = (verdict: Verdict) => judged.filter((candidate) => verdicts.get(key(candidate)) === verdict).length;
    return { baseline: count('baseline'), accounted: count('gateway'), deferred, direct };
  }

  /** The verdict on a new item, or undefined to judge it later. */
  private verdictOf(
    candidate: RackItem,
    created: ReadonlySet<string>,
    busy: ReadonlySet<string>,
    builds: ReadonlyMap<string, RackItem>,
    buildVerdict: (id: string) => Verdict | undefined,
  ): Verdict | undefined {
    if (created.has(candidate.id)) return 'gateway';
    if (candidate.kind === 'release' && candidate.link) {
      const build = builds.get(candidate.link);
      const ofBuild = buildVerdict(candidate.link);
      if (build && (ofBuild === 'gateway' || ofBuild === 'baseline')) {
        if (build.link === candidate.id) return ofBuild;
        // The rack makes a build's release, then names it on the build: a moment when only the release shows.
        if (!build.link && (build.status === 'created' || build.status === 'running')) return undefined;
      }
    }
    return busy.has(candidate.app) ? undefined : 'direct';
  }

  /** Which of these ids audited gateway requests created, by the rack's own answers (`createdIds`). */
  private async createdThroughGateway(runner: QueryRunner, fresh: readonly RackItem[]): Promise<Set<string>> {
    if (fresh.length === 0) return new Set();
    const ids = [...new Set(fresh.map((candidate) => candidate.id))];
    const rows = (await runner.query(
      `SELECT DISTINCT created.id FROM audit_events, jsonb_array_elements_text(details->'createdIds') AS created(id)
       WHERE details ? 'createdIds' AND details->'createdIds' ?| $1::text[] AND kind = 'rack.exchange'`,
      [ids],
    )) as Array<{ id: string }>;
    return new Set(rows.map((row) => row.id));
  }

  /** Apps with a creating request whose intent is in the trail but not yet its outcome. */
  private async appsWithChangesInFlight(runner: QueryRunner): Promise<Set<string>> {
    const rows = (await runner.query(
      `SELECT DISTINCT intent.app FROM audit_events intent
       WHERE intent.kind = 'rack.intent' AND intent.occurred_at > $1 AND intent.route = ANY($2) AND intent.app IS NOT NULL
         AND NOT EXISTS (SELECT 1 FROM audit_events outcome WHERE outcome.request_id = intent.request_id AND outcome.kind = 'rack.exchange')`,
      [new Date(Date.now() - IN_FLIGHT_MS), CREATING_ROUTES],
    )) as Array<{ app: string }>;
    return new Set(rows.map((row) => row.app));
  }

  /**
   * Records each as a `rack.direct-access` event. One that cannot be recorded is forgotten again, so the
   * next run judges and flags it anew; only a process dying between the two loses a flag.
   */
  private async flag(items: readonly RackItem[]): Promise<RackItem[]> {
    const flagged: RackItem[] = [];
    for (const candidate of items) {
      try {
        await this.trail.commit(directAccess(candidate));
      } catch (error) {
        this.logger.error(`could not record the direct ${candidate.kind} ${candidate.id} of ${candidate.app}: ${(error as Error).message}`);
        await this.dataSource
          .query(`DELETE FROM audit_rack_resources WHERE kind = $1 AND id = $2`, [candidate.kind, candidate.id])
          .catch(() => undefined);
        continue;
      }
      this.flaggedByKind.set(candidate.kind, this.flagged(candidate.kind) + 1);
      this.logger.warn(
        `${candidate.kind} ${candidate.id} of ${candidate.app} was not created through the gateway: the rack's credential was used directly`,
      );
      flagged.push(candidate);
    }
    return flagged;
  }
}

function item(kind: Kind, app: string, answer: Record<string, unknown>): RackItem[] {
  const text = (field: string) => (typeof answer[field] === 'string' ? answer[field] : '');
  if (!text('id')) return [];
  return kind === 'build'
    ? [{ kind, id: text('id'), app, created: text('started'), link: text('release'), status: text('status') }]
    : [{ kind, id: text('id'), app, created: text('created'), link: text('build') }];
}

function key(candidate: RackItem): string {
  return `${candidate.kind}:${candidate.id}`;
}

function unique(items: readonly RackItem[]): RackItem[] {
  return [...new Map(items.map((candidate) => [key(candidate), candidate])).values()];
}

function directAccess(candidate: RackItem): AuditRecord {
  return gatewayEvent(DIRECT_ACCESS_KIND, {
    path: `/apps/${candidate.app}/${candidate.kind}s/${candidate.id}`,
    action: 'create',
    subject: `${candidate.kind}s`,
    app: candidate.app,
    // Not a decision of the gateway's: a change it would have had to allow, made without asking it.
    decision: 'denied',
    reason: `no audited request through the gateway created this ${candidate.kind}: the rack's credential was used directly`,
    details: {
      kind: candidate.kind,
      id: candidate.id,
      created: candidate.created || null,
      ...(candidate.kind === 'build'
        ? { release: candidate.link || null, status: candidate.status ?? null }
        : { build: candidate.link || null }),
    },
  });
}

import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { AuditTrail } from '../../src/audit/audit-trail.service';
import { RackReconciliation } from '../../src/audit/rack-reconciliation.service';
import { readEvent } from '../support/audit-events';
import { SEED_ENV } from '../support/mock-rack';
import { rackAndGateway } from '../support/gateway-fixture';
import { basicAuth } from '../support/test-gateway';
import { eventually } from '../support/webhook-receiver';

interface Build {
  id: string;
  status: string;
  release: string;
}

/**
 * Builds and releases made at the rack with its own credential, behind the gateway's back, against
 * ones made through it: reconciliation flags the first, once each, and never the second.
 */
describe('reconciliation with the rack', () => {
  const fixture = rackAndGateway({ env: { AUDIT_RECONCILE_SECONDS: '0', AUDIT_AGGREGATE_READS_SECONDS: '0' } });
  let admin: string;

  const database = () => fixture.gateway.app.get(DataSource);
  const reconcile = () => fixture.gateway.app.get(RackReconciliation).reconcile();
  const form = (fields: Record<string, string>) => ({
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields).toString(),
  });
  /** The same request, through the gateway with a person's token, or straight to the rack with its password. */
  const through = (path: string, init: { headers?: Record<string, string>; body?: string } = {}) =>
    fetch(`${fixture.gateway.url}${path}`, { method: 'POST', ...init, headers: { authorization: basicAuth(admin), ...init.headers } });
  const direct = (path: string, init: { headers?: Record<string, string>; body?: string } = {}) =>
    fetch(`${fixture.rack.url}${path}`, {
      method: 'POST',
      ...init,
      headers: { authorization: basicAuth(fixture.rack.password), ...init.headers },
    });
  type Send = typeof through;

  /** Uploads a source, builds it, and waits for the build's release: ids of both. */
  async function deploy(send: Send, name: string): Promise<{ build: string; release: string }> {
    expect((await send(`/apps/myapp/objects/tmp/${name}.tgz`, { body: 'source tarball' })).status).toBe(200);
    const created = await send('/apps/myapp/builds', form({ url: `object://myapp/tmp/${name}.tgz`, description: name }));
    expect(created.status).toBe(200);
    const { id } = (await created.json()) as Build;
    let build: Build | undefined;
    await eventually(async () => {
      const answer = await fetch(`${fixture.rack.url}/apps/myapp/builds/${id}`, {
        headers: { authorization: basicAuth(fixture.rack.password) },
      });
      build = (await answer.json()) as Build;
      return build.status === 'complete';
    }, 10_000);
    return { build: id, release: build?.release ?? '' };
  }

  async function envChange(send: Send, value: string): Promise<string> {
    const created = await send('/apps/myapp/releases', form({ env: `${SEED_ENV.myappSecond}\nFEATURE=${value}` }));
    expect(created.status).toBe(200);
    return ((await created.json()) as { id: string }).id;
  }

  const flaggedEvents = () =>
    database().query<Array<{ id: string; kind: string; app: string; decision: string; path: string }>>(
      `SELECT details->>'id' AS id, details->>'kind' AS kind, app, decision, path FROM audit_events WHERE kind = 'rack.direct-access' ORDER BY seq`,
    );

  beforeAll(async () => {
    ({ token: admin } = await fixture.gateway.createUserWithToken('admin@example.com', 'admin'));
  });

  it('takes stock first, then flags only what was made at the rack directly, once, as an event and a metric', async () => {
    const first = await reconcile();
    expect(first).toMatchObject({ skipped: false, accounted: 0, flagged: [], deferred: 0 });
    expect(first.baseline).toBeGreaterThan(0);

    const gateway = await deploy(through, 'through-gateway');
    const gatewayEnv = await envChange(through, 'through-gateway');
    const rack = await deploy(direct, 'behind-its-back');
    const rackEnv = await envChange(direct, 'behind-its-back');
    // The gateway's outcomes reach the trail just after their answers, with the ids the rack gave.
    await eventually(async () => {
      const [{ count }] = await database().query<Array<{ count: string }>>(
        `SELECT count(*) AS count FROM audit_events WHERE kind = 'rack.exchange' AND details ? 'createdIds'`,
      );
      return Number(count) === 2;
    }, 5_000);
    const [buildOutcome] = await database().query<Array<{ details: { createdIds: string[] } }>>(
      `SELECT details FROM audit_events WHERE kind = 'rack.exchange' AND route = 'POST /apps/{app}/builds'`,
    );
    expect(buildOutcome.details.createdIds).toEqual([gateway.build]);

    const second = await reconcile();
    expect(second.flagged.map(({ kind, id }) => `${kind} ${id}`).sort()).toEqual(
      [`build ${rack.build}`, `release ${rack.release}`, `release ${rackEnv}`].sort(),
    );
    expect(second).toMatchObject({ skipped: false, baseline: 0, accounted: 3, deferred: 0 });
    expect(second.flagged.map((item) => item.id)).not.toEqual(expect.arrayContaining([gateway.build, gateway.release, gatewayEnv]));

    expect(await flaggedEvents()).toEqual(
      expect.arrayContaining([
        { id: rack.build, kind: 'build', app: 'myapp', decision: 'denied', path: `/apps/myapp/builds/${rack.build}` },
        { id: rack.release, kind: 'release', app: 'myapp', decision: 'denied', path: `/apps/myapp/releases/${rack.release}` },
        { id: rackEnv, kind: 'release', app: 'myapp', decision: 'denied', path: `/apps/myapp/releases/${rackEnv}` },
      ]),
    );
    expect(await flaggedEvents()).toHaveLength(3);

    // Once: a later run has nothing new to say.
    expect(await reconcile()).toMatchObject({ skipped: false, accounted: 0, flagged: [] });
    expect(await flaggedEvents()).toHaveLength(3);

    const metrics = await (await fetch(`${fixture.gateway.url}/api/v1/metrics`)).text();
    expect(metrics).toContain('rack_gateway_rack_direct_access_total{kind="build"} 1');
    expect(metrics).toContain('rack_gateway_rack_direct_access_total{kind="release"} 2');
    expect(metrics).toMatch(/^rack_gateway_reconciled_timestamp_seconds [1-9]\d*(\.\d+)?$/m);
  });

  it('flags once however many runs judge at the same time', async () => {
    const rackEnv = await envChange(direct, 'twice');
    const runs = await Promise.all([reconcile(), reconcile(), reconcile()]);
    expect(runs.flatMap((run) => run.flagged.map((item) => item.id))).toEqual([rackEnv]);
    expect((await flaggedEvents()).filter((event) => event.id === rackEnv)).toHaveLength(1);
  });

  it('waits, rather than flag, while a change to the app is on its way into the trail', async () => {
    const trail = fixture.gateway.app.get(AuditTrail);
    const inFlight = { requestId: randomUUID(), method: 'POST', path: '/apps/myapp/releases', route: 'POST /apps/{app}/releases' };
    // A release through the gateway whose intent is in the trail, but not yet its outcome (and so not its id).
    await trail.commit(readEvent(0, { ...inFlight, kind: 'rack.intent', action: 'create', subject: 'releases', status: null }));
    const rackEnv = await envChange(direct, 'while-busy');
    expect(await reconcile()).toMatchObject({ flagged: [], deferred: 1 });

    await trail.commit(readEvent(0, { ...inFlight, kind: 'rack.exchange', action: 'create', subject: 'releases', status: 500 }));
    expect((await reconcile()).flagged.map((item) => item.id)).toEqual([rackEnv]);
  });
});

describe('reconciliation every AUDIT_RECONCILE_SECONDS', () => {
  const fixture = rackAndGateway({ env: { AUDIT_RECONCILE_SECONDS: '1' } });

  it('takes stock after one interval, then flags a release made at the rack directly by itself', async () => {
    const reconciliation = () => fixture.gateway.app.get(RackReconciliation);
    await eventually(() => reconciliation().lastCompletedAt !== undefined, 10_000);
    const created = await fetch(`${fixture.rack.url}/apps/myapp/releases`, {
      method: 'POST',
      headers: { authorization: basicAuth(fixture.rack.password), 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ env: `${SEED_ENV.myappSecond}\nFEATURE=scheduled` }).toString(),
    });
    const { id } = (await created.json()) as { id: string };
    await eventually(() => reconciliation().flagged('release') === 1, 10_000);
    const [event] = await fixture.gateway.app
      .get(DataSource)
      .query<Array<{ id: string }>>(`SELECT details->>'id' AS id FROM audit_events WHERE kind = 'rack.direct-access'`);
    expect(event).toEqual({ id });
  });
});

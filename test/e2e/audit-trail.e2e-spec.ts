import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { AuthenticatorApp } from '../support/authenticators/authenticator-app';
import { rackAndGateway } from '../support/gateway-fixture';
import { runScript } from '../support/run-script';
import { basicAuth, firstProcessId } from '../support/test-gateway';
import { RackSocket } from '../support/websocket-client';

interface StoredEvent {
  seq: string;
  kind: string;
  request_id: string;
  actor_email: string | null;
  actor_token_id: string | null;
  client_ip: string;
  method: string;
  path: string;
  route: string | null;
  app: string | null;
  decision: string;
  reason: string | null;
  status: number | null;
  details: Record<string, unknown>;
}

describe('the audit trail', () => {
  const fixture = rackAndGateway({ env: { AUDIT_AGGREGATE_READS_SECONDS: '1' } });
  let viewer: string;
  let ops: string;
  let admin: string;
  let pid: string;

  beforeAll(async () => {
    ({ token: viewer } = await fixture.gateway.createUserWithToken('viewer@example.com', 'viewer'));
    ({ token: ops } = await fixture.gateway.createUserWithToken('ops@example.com', 'ops'));
    ({ token: admin } = await fixture.gateway.createUserWithToken('admin@example.com', 'admin'));
    pid = await firstProcessId(fixture.gateway.url, ops);
  });

  const database = () => fixture.gateway.app.get(DataSource);
  const events = (where = 'true', parameters: unknown[] = []) =>
    database().query<StoredEvent[]>(`SELECT * FROM audit_events WHERE ${where} ORDER BY seq`, parameters);

  /** Events are written off the request path within moments; wait for them rather than sleep. */
  async function eventually(where: string, parameters: unknown[], count = 1): Promise<StoredEvent[]> {
    for (let attempt = 0; attempt < 100; attempt += 1) {
      const found = await events(where, parameters);
      if (found.length >= count) return found;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`fewer than ${count} audit events where ${where} (${JSON.stringify(parameters)})`);
  }

  const rack = (path: string, token: string, init: RequestInit = {}) =>
    fetch(`${fixture.gateway.url}${path}`, { ...init, headers: { authorization: basicAuth(token), ...init.headers } });

  it('records a read with who, from where, the route, the app and the outcome, but not the query’s values', async () => {
    expect((await rack('/apps/myapp/processes?service=web&secretish=hunter2', viewer)).status).toBe(200);
    const [event] = await eventually(`kind = 'rack.exchange' AND path = $1 AND actor_email = $2`, [
      '/apps/myapp/processes',
      'viewer@example.com',
    ]);
    expect(event).toMatchObject({
      actor_email: 'viewer@example.com',
      actor_token_id: expect.any(String),
      client_ip: '127.0.0.1',
      method: 'GET',
      route: 'GET /apps/{app}/processes',
      app: 'myapp',
      decision: 'allowed',
      status: 200,
      details: expect.objectContaining({ queryKeys: ['secretish', 'service'], transport: 'http', completed: true }),
    });
    expect(JSON.stringify(event)).not.toContain('hunter2');
  });

  it('folds identical reads within the window into one event with their count', async () => {
    for (let poll = 0; poll < 5; poll += 1) expect((await rack('/apps/myapp/builds', viewer)).status).toBe(200);
    const [event] = await eventually(`kind = 'rack.exchange' AND path = $1`, ['/apps/myapp/builds']);
    expect(event.details).toMatchObject({ count: 5, firstAt: expect.any(String), lastAt: expect.any(String) });
    expect(await events(`path = $1`, ['/apps/myapp/builds'])).toHaveLength(1);
  });

  it('commits a change’s intent before the rack hears of it, then its outcome under the same request id', async () => {
    expect((await rack('/apps/myapp/services/web/restart', ops, { method: 'POST' })).status).toBe(200);
    const [intent, outcome] = await eventually(`path = $1`, ['/apps/myapp/services/web/restart'], 2);
    expect(intent).toMatchObject({
      kind: 'rack.intent',
      actor_email: 'ops@example.com',
      route: 'POST /apps/{app}/services/{name}/restart',
    });
    expect(outcome).toMatchObject({ kind: 'rack.exchange', status: 200, request_id: intent.request_id });
    expect(Number(intent.seq)).toBeLessThan(Number(outcome.seq));
  });

  it('refuses a change with 503, and never forwards it, while its intent cannot be written; reads go on', async () => {
    await database().query(`
      CREATE FUNCTION refuse_audit_inserts() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'disk full'; END $$;
      CREATE TRIGGER refuse_audit_inserts BEFORE INSERT ON audit_events FOR EACH ROW EXECUTE FUNCTION refuse_audit_inserts();`);
    try {
      const forwardedBefore = fixture.rack.requests().length;
      const refused = await rack('/apps/myapp/services/web/restart', ops, { method: 'POST' });
      expect(refused.status).toBe(503);
      expect(await refused.text()).toBe(
        'the audit trail cannot record this change right now, so it was not sent to the rack; try again shortly\n',
      );
      expect(fixture.rack.requests()).toHaveLength(forwardedBefore);
      expect((await rack('/apps/myapp/releases', viewer)).status).toBe(200);
    } finally {
      await database().query(`DROP TRIGGER refuse_audit_inserts ON audit_events; DROP FUNCTION refuse_audit_inserts();`);
    }
    // The read's event waited in the queue and is written once the database takes writes again.
    await eventually(`kind = 'rack.exchange' AND path = $1`, ['/apps/myapp/releases']);
  });

  it('records refusals: a bad credential, a denied permission, an ambiguous target', async () => {
    const badToken = `rgw_${'Q'.repeat(43)}`;
    expect((await rack('/apps', badToken)).status).toBe(401);
    expect((await rack(`/apps/myapp/processes/${pid}/files?path=/etc`, viewer)).status).toBe(403);
    expect((await rack('/apps/myapp%2Fother/builds', viewer)).status).toBe(400);
    const refused = await eventually(`kind = 'request.refused'`, [], 3);
    expect(refused).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ status: 401, actor_email: null, decision: 'denied', reason: 'invalid authentication', path: '/apps' }),
        expect.objectContaining({
          status: 403,
          actor_email: 'viewer@example.com',
          reason: 'permission denied: exec:create on app myapp',
          path: `/apps/myapp/processes/${pid}/files`,
          route: 'GET /apps/{app}/processes/{pid}/files',
          app: 'myapp',
        }),
        expect.objectContaining({ status: 400, actor_email: null, path: '/apps/myapp%2Fother/builds' }),
      ]),
    );
    expect(JSON.stringify(await events())).not.toContain(badToken);
  });

  it('records an exec session: its command, secrets masked, and how it ended', async () => {
    const socket = await RackSocket.open(`${fixture.gateway.url}/apps/myapp/processes/${pid}/exec`, {
      authorization: basicAuth(ops),
      command: 'exit 3 postgres://app:hunter2@db/main DB_PASSWORD=hunter2',
    });
    await socket.untilEnd();
    socket.close();
    const [intent, outcome] = await eventually(`path = $1 AND method = 'SOCKET'`, [`/apps/myapp/processes/${pid}/exec`], 2);
    expect(intent).toMatchObject({
      kind: 'rack.intent',
      route: 'SOCKET /apps/{app}/processes/{pid}/exec',
      details: expect.objectContaining({ command: 'exit 3 postgres://app:********@db/main DB_PASSWORD=********' }),
    });
    expect(outcome).toMatchObject({
      kind: 'rack.exchange',
      status: 101,
      request_id: intent.request_id,
      details: expect.objectContaining({ exitCode: 3 }),
    });
  });

  it('records which env keys a release adds, changes and removes in its intent, and never a value', async () => {
    const { token: deployer } = await fixture.gateway.createUserWithToken('deployer@example.com', 'deployer');
    // As `convox env set` does it: read the newest release's env (secrets masked), post it back changed.
    const [latest] = (await (await rack('/apps/myapp/releases?limit=1', deployer)).json()) as Array<{ env: string }>;
    const env = latest.env
      .split('\n')
      .filter((line) => !line.startsWith('SECRET_KEY='))
      .map((line) => (line.startsWith('NODE_ENV=') ? 'NODE_ENV=staging-v4lue' : line))
      .concat('NEW_TOKEN=n3w-t0ken-v4lue')
      .join('\n');
    expect(env).toContain('DATABASE_URL=********');
    const released = await rack('/apps/myapp/releases', deployer, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ env }).toString(),
    });
    expect(released.status).toBe(200);

    const [intent, outcome] = await eventually(
      `path = '/apps/myapp/releases' AND method = 'POST' AND actor_email = $1`,
      ['deployer@example.com'],
      2,
    );
    expect(intent).toMatchObject({ kind: 'rack.intent', route: 'POST /apps/{app}/releases' });
    expect(intent.details.env).toEqual({ added: ['NEW_TOKEN'], changed: ['NODE_ENV'], removed: ['SECRET_KEY'] });
    expect(outcome).toMatchObject({ kind: 'rack.exchange', status: 200, request_id: intent.request_id });
    const recorded = JSON.stringify([intent, outcome]);
    for (const value of ['staging-v4lue', 'n3w-t0ken-v4lue', 'sk_live_mock_4f9a2c7e1b3d', 'db-pa55w0rd', 'redis-s3cret', '********']) {
      expect(recorded).not.toContain(value);
    }
  });

  it('records the caller’s second factor on every event: enrolled, the route’s level, and how it was met', async () => {
    // An admin enrols TOTP, which opens their step-up window.
    const { token: person } = await fixture.gateway.createUserWithToken('enrolled@example.com', 'admin');
    const api = (path: string, init: RequestInit = {}) =>
      fetch(`${fixture.gateway.url}${path}`, {
        ...init,
        headers: { authorization: `Bearer ${person}`, 'content-type': 'application/json', ...init.headers },
      });
    const started = (await (await api('/api/v1/mfa/totp', { method: 'POST', body: '{"label":"Phone"}' })).json()) as {
      id: string;
      otpauth_uri: string;
    };
    const app = new AuthenticatorApp(started.otpauth_uri);
    const confirm = await api(`/api/v1/mfa/totp/${started.id}/confirm`, {
      method: 'POST',
      body: JSON.stringify({ code: app.codeAt(Date.now()) }),
    });
    expect(confirm.status).toBe(200);

    expect((await rack('/apps/myapp/services', person)).status).toBe(200);
    expect((await rack('/apps/myapp/services/worker/restart', person, { method: 'POST' })).status).toBe(200);
    // Always-level: a code with the request itself (the next step's; enrolment spent this one).
    const created = await api('/api/v1/tokens', {
      method: 'POST',
      body: '{"name":"mfa"}',
      headers: { 'x-mfa-totp': app.codeAt(Date.now(), 1) },
    });
    expect(created.status).toBe(201);
    const unproven = await api('/api/v1/tokens', { method: 'POST', body: '{"name":"no code"}' });
    expect(unproven.status).toBe(401);
    expect((await rack('/apps/myapp', viewer, { method: 'DELETE' })).status).toBe(403);
    expect((await rack('/apps/otherapp', `rgw_${'M'.repeat(43)}`)).status).toBe(401);

    const mfaOf = async (where: string, parameters: unknown[], count = 1) =>
      (await eventually(where, parameters, count)).map((event) => ({ kind: event.kind, mfa: event.details.mfa }));
    expect(await mfaOf(`actor_email = 'enrolled@example.com' AND path = '/apps/myapp/services'`, [])).toEqual([
      { kind: 'rack.exchange', mfa: { enrolled: true, level: 'none' } },
    ]);
    expect(await mfaOf(`actor_email = 'enrolled@example.com' AND path = '/apps/myapp/services/worker/restart'`, [], 2)).toEqual([
      { kind: 'rack.intent', mfa: { enrolled: true, level: 'step-up', by: 'step-up window' } },
      { kind: 'rack.exchange', mfa: { enrolled: true, level: 'step-up', by: 'step-up window' } },
    ]);
    expect(await mfaOf(`actor_email = 'enrolled@example.com' AND route = 'POST /api/v1/tokens'`, [])).toEqual([
      { kind: 'api.request', mfa: { enrolled: true, level: 'always', by: 'totp' } },
    ]);
    expect(await mfaOf(`kind = 'request.refused' AND actor_email = 'enrolled@example.com'`, [])).toEqual([
      { kind: 'request.refused', mfa: { enrolled: true, level: 'always' } },
    ]);
    // Refused before the MFA stage: the level the route would have needed, nothing met.
    expect(await mfaOf(`kind = 'request.refused' AND actor_email = 'viewer@example.com' AND route = 'DELETE /apps/{name}'`, [])).toEqual([
      { kind: 'request.refused', mfa: { enrolled: false, level: 'always' } },
    ]);
    // No caller, no second factor to speak of.
    const [anonymous] = await eventually(`kind = 'request.refused' AND path = '/apps/otherapp'`, []);
    expect(anonymous.details).not.toHaveProperty('mfa');
  });

  it('records calls of the gateway’s API, but no body: a new token’s secret is nowhere in the trail', async () => {
    const created = await fetch(`${fixture.gateway.url}/api/v1/tokens`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'ci' }),
    });
    expect(created.status).toBe(201);
    const { token } = (await created.json()) as { token: string };
    const [event] = await eventually(`kind = 'api.request' AND route = $1 AND actor_email = $2`, [
      'POST /api/v1/tokens',
      'admin@example.com',
    ]);
    expect(event).toMatchObject({ actor_email: 'admin@example.com', status: 201, decision: 'allowed' });
    const everything = JSON.stringify(await events());
    for (const secret of [token, admin, viewer, ops, 'hunter2', fixture.rack.password]) expect(everything).not.toContain(secret);
  });

  it('verifies: every event recorded so far is chained intact', async () => {
    const verified = await fetch(`${fixture.gateway.url}/api/v1/audit/verify`, { headers: { authorization: `Bearer ${admin}` } });
    expect(verified.status).toBe(200);
    const [{ count }] = await database().query<Array<{ count: string }>>(`SELECT count(*) AS count FROM audit_events`);
    expect(await verified.json()).toEqual({ intact: true, events: Number(count), headHash: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect((await fetch(`${fixture.gateway.url}/api/v1/audit/verify`, { headers: { authorization: `Bearer ${viewer}` } })).status).toBe(
      403,
    );
  });

  describe('listing', () => {
    interface Page {
      events: Array<{
        seq: number;
        kind: string;
        actorEmail: string | null;
        route: string | null;
        status: number | null;
        details: Record<string, unknown>;
        hash: string;
      }>;
      nextCursor: number | null;
    }
    const list = async (token: string, query = '') => {
      const response = await fetch(`${fixture.gateway.url}/api/v1/audit/events${query}`, { headers: { authorization: `Bearer ${token}` } });
      return { status: response.status, page: (await response.json()) as Page };
    };

    it('shows everyone their own events, and no one else’s unless they may read all', async () => {
      const own = await list(viewer);
      expect(own.status).toBe(200);
      expect(own.page.events.length).toBeGreaterThan(0);
      expect(new Set(own.page.events.map((event) => event.actorEmail))).toEqual(new Set(['viewer@example.com']));
      expect((await list(viewer, '?actor=*')).status).toBe(403);
      expect((await list(viewer, '?actor=admin@example.com')).status).toBe(403);
      expect((await list(viewer, '?actor=nobody@example.com')).status).toBe(403);

      const everyone = await list(admin, '?actor=*&limit=500');
      expect(new Set(everyone.page.events.map((event) => event.actorEmail))).toEqual(
        new Set(['viewer@example.com', 'ops@example.com', 'deployer@example.com', 'enrolled@example.com', 'admin@example.com', null]),
      );
      expect((await list(admin, '?actor=ops@example.com')).page.events.every((event) => event.actorEmail === 'ops@example.com')).toBe(true);
    });

    it('filters, and pages newest first with a cursor, each event with its chain link', async () => {
      const refused = await list(admin, '?actor=*&decision=denied&status=403');
      expect(refused.page.events.length).toBeGreaterThan(0);
      expect(refused.page.events.every((event) => event.status === 403)).toBe(true);

      const first = await list(admin, '?actor=*&limit=2');
      expect(first.page.events).toHaveLength(2);
      expect(first.page.events[0].seq).toBeGreaterThan(first.page.events[1].seq);
      expect(first.page.events[0].hash).toMatch(/^[0-9a-f]{64}$/);
      const second = await list(admin, `?actor=*&limit=2&before=${first.page.nextCursor}`);
      expect(second.page.events[0].seq).toBeLessThan(first.page.events[1].seq);

      expect((await list(admin, '?limit=501')).status).toBe(400);
      expect((await list(admin, '?since=yesterday')).status).toBe(400);
    });

    it('filters by the permission a rack request needed', async () => {
      const restarts = await list(admin, '?actor=*&action=restart&subject=apps');
      expect(restarts.page.events.length).toBeGreaterThan(0);
      expect(restarts.page.events.every((event) => event.route === 'POST /apps/{app}/services/{name}/restart')).toBe(true);
      expect((await list(admin, '?action=fly')).status).toBe(400);
      expect((await list(admin, '?subject=spaceships')).status).toBe(400);
    });

    it('searches words in the path, route, reason, actor and details, but never finds a masked secret', async () => {
      const exec = await list(admin, `?actor=*&q=${encodeURIComponent('exit postgres')}`);
      expect(exec.page.events.map((event) => event.kind)).toEqual(['rack.intent']);
      expect(exec.page.events[0].details).toMatchObject({ command: expect.stringContaining('DB_PASSWORD=********') });
      // Word prefixes, any punctuation: part of a route, an address, a reason.
      expect((await list(admin, '?actor=*&q=servic%20resta')).page.events.length).toBeGreaterThan(0);
      expect((await list(admin, '?actor=*&q=ops@example.com&kind=rack.intent')).page.events.length).toBeGreaterThan(0);
      const denied = await list(admin, `?actor=*&q=${encodeURIComponent('permission denied exec:create')}`);
      expect(denied.page.events.map((event) => event.status)).toEqual([403]);
      // Everyone searches their own events unless they may read all.
      expect((await list(viewer, '?q=restart')).page.events).toEqual([]);
      expect((await list(admin, '?actor=*&q=hunter2')).page.events).toEqual([]);
      expect((await list(admin, '?q=***')).status).toBe(400);
      expect((await list(admin, '?q=a%20b%20c%20d%20e%20f%20g%20h%20i')).status).toBe(400);
    });
  });

  describe('export', () => {
    const exportOf = (token: string, query = '') =>
      fetch(`${fixture.gateway.url}/api/v1/audit/export${query}`, { headers: { authorization: `Bearer ${token}` } });
    let directory: string;

    beforeAll(() => {
      directory = mkdtempSync(join(tmpdir(), 'rgw-audit-export-'));
    });

    afterAll(() => rmSync(directory, { recursive: true, force: true }));

    const verifyFile = (path: string) =>
      runScript('src/cli/audit-verify.ts', ['--file', path], { APP_SECRET_KEY: fixture.gateway.config.sessions.secret });

    it('streams the chain as JSON lines that verify on their own, and shows a line changed', async () => {
      const exported = await exportOf(admin);
      expect(exported.status).toBe(200);
      expect(exported.headers.get('content-type')).toBe('application/x-ndjson');
      const lines = (await exported.text()).trimEnd().split('\n');
      // Events keep arriving (the export's own among them): every one up to the last exported is in it.
      const lastSeq = (JSON.parse(lines[lines.length - 1]) as { seq: number }).seq;
      const [{ count }] = await database().query<Array<{ count: string }>>(`SELECT count(*) AS count FROM audit_events WHERE seq <= $1`, [
        lastSeq,
      ]);
      expect(lines.length).toBe(Number(count));
      const file = join(directory, 'audit.jsonl');
      writeFileSync(file, `${lines.join('\n')}\n`);
      expect(await verifyFile(file)).toMatchObject({
        code: 0,
        stdout: expect.stringMatching(`^audit chain intact: ${lines.length} events`),
      });

      const tampered = lines.map((line, index) =>
        index === 2 ? JSON.stringify({ ...(JSON.parse(line) as object), reason: 'nothing to see' }) : line,
      );
      writeFileSync(file, `${tampered.join('\n')}\n`);
      const third = (JSON.parse(lines[2]) as { seq: number }).seq;
      expect(await verifyFile(file)).toMatchObject({
        code: 1,
        stdout: expect.stringContaining(`BROKEN at event ${third}: event ${third} was changed`),
      });

      // A range of the chain verifies too, anchored at its first event.
      const range = (await (await exportOf(admin, '?from=3&to=5')).text()).trimEnd().split('\n');
      expect(range.map((line) => (JSON.parse(line) as { seq: number }).seq)).toEqual([3, 4, 5]);
      writeFileSync(file, `${range.join('\n')}\n`);
      expect((await verifyFile(file)).code).toBe(0);
    });

    it('as CSV, and to admins only', async () => {
      const exported = await exportOf(admin, '?format=csv&to=4');
      expect(exported.headers.get('content-type')).toBe('text/csv; charset=utf-8');
      const rows = (await exported.text()).trimEnd().split('\n');
      expect(rows[0]).toBe(
        'seq,id,occurredAt,kind,requestId,actorEmail,actorTokenId,clientIp,userAgent,method,path,route,action,subject,app,decision,reason,status,durationMs,bytesIn,bytesOut,details,prevHash,hash',
      );
      expect(rows).toHaveLength(5);
      expect((await exportOf(viewer)).status).toBe(403);
    });
  });
});

import { performance } from 'node:perf_hooks';
import { DataSource } from 'typeorm';
import { rackAndGateway } from '../support/gateway-fixture';
import { describeOnPostgresServer } from '../support/test-database';

const EVENTS = 1_000_000;
/** The bar for a filtered page of a million events, over HTTP. */
const PAGE_BUDGET_MS = 100;

/**
 * A million events, shaped like the recorder's (mostly folded reads, some changes with their
 * commands, refusals, API calls; 50 people over 200 apps, a few apps far busier than the rest), put
 * in after the chain head in one statement. Their links are stand-ins: the chain is not what is
 * tested here, and the head moves past them so the gateway goes on appending after them.
 */
const INSERT_EVENTS = `
  WITH head AS (UPDATE audit_chain_head SET seq = seq + $1, hash = decode(md5('moved'), 'hex') WHERE id = 1 RETURNING seq - $1 AS base)
  INSERT INTO audit_events (seq, id, occurred_at, kind, request_id, actor_email, client_ip, user_agent, method, path, route, action,
                            subject, app, decision, reason, status, duration_ms, bytes_in, bytes_out, details, prev_hash, hash)
  SELECT head.base + i, gen_random_uuid(), now() - ($1 - i) * interval '1 second', k.kind, gen_random_uuid()::text,
    CASE WHEN k.kind = 'request.refused' AND i % 3 = 0 THEN NULL ELSE 'user' || (i % 50) || '@example.com' END,
    '10.0.' || (i % 200) || '.' || (i % 250), 'convox/3.20', r.method, replace(r.pattern, '{app}', a.app), r.method || ' ' || r.pattern,
    r.action, r.subject, a.app,
    CASE WHEN k.kind = 'request.refused' THEN 'denied' ELSE 'allowed' END,
    CASE WHEN k.kind = 'request.refused' THEN 'permission denied: ' || r.action || ':' || r.subject || ' on app ' || a.app END,
    CASE WHEN k.kind = 'request.refused' THEN 403 WHEN k.kind = 'rack.intent' THEN NULL WHEN i % 200 = 7 THEN 500 ELSE 200 END,
    i % 300, 0, i % 5000,
    CASE
      WHEN k.kind = 'rack.intent' AND i % 5 = 0
        THEN jsonb_build_object('queryKeys', '[]'::jsonb, 'command', (ARRAY['bin/rails db:migrate', 'rake assets:precompile', 'bundle exec sidekiq', 'sh -c env'])[1 + i / 100 % 4])
      WHEN k.kind = 'rack.exchange' THEN jsonb_build_object('queryKeys', '[]'::jsonb, 'transport', 'http', 'completed', true)
      ELSE jsonb_build_object('queryKeys', '[]'::jsonb)
    END,
    decode(md5(i::text), 'hex'), decode(md5((i + 1)::text), 'hex')
  FROM head, generate_series(1, $1::int) AS i
  CROSS JOIN LATERAL (SELECT CASE WHEN i % 100 < 80 THEN 'rack.exchange' WHEN i % 100 < 88 THEN 'rack.intent'
                                  WHEN i % 100 < 93 THEN 'request.refused' ELSE 'api.request' END AS kind) AS k
  -- app0 has about a sixth of the events, app199 a few hundred.
  CROSS JOIN LATERAL (SELECT 'app' || floor(200 * power(((i::bigint * 2654435761) % 1000003) / 1000003.0, 3))::int AS app) AS a
  CROSS JOIN LATERAL (
    SELECT * FROM (VALUES (0, 'GET', '/apps/{app}/processes', 'read', 'processes'), (1, 'GET', '/apps/{app}/builds', 'read', 'builds'),
                          (2, 'POST', '/apps/{app}/releases', 'create', 'releases'), (3, 'POST', '/apps/{app}/services/web/restart', 'restart', 'apps'),
                          (4, 'GET', '/apps/{app}/releases', 'read', 'releases'), (5, 'SOCKET', '/apps/{app}/processes/p1/exec', 'create', 'exec'))
      AS route(n, method, pattern, action, subject)
    WHERE route.n = i % 6) AS r`;

/**
 * The issue: "indexed so that a filtered page out of a million events answers in well under 100 ms".
 * Real Postgres only: the embedded engine takes minutes to take a million rows (and serves one
 * connection, so it is not what a trail this size runs on).
 */
describeOnPostgresServer('a filtered page of a million audit events', () => {
  const fixture = rackAndGateway();
  let admin: string;

  const database = () => fixture.gateway.app.get(DataSource);

  beforeAll(async () => {
    ({ token: admin } = await fixture.gateway.createUserWithToken('admin@example.com', 'admin'));
    await database().query(INSERT_EVENTS, [EVENTS]);
    // What autovacuum would do shortly after: the planner needs the statistics of the new rows.
    await database().query(`ANALYZE audit_events`);
  }, 600_000);

  /** The page's time over HTTP: the best of five after a warm-up, so one busy moment of the machine does not decide. */
  async function timedPage(query: string): Promise<{ ms: number; events: Array<Record<string, unknown>> }> {
    const get = async () => {
      const response = await fetch(`${fixture.gateway.url}/api/v1/audit/events?${query}`, {
        headers: { authorization: `Bearer ${admin}` },
      });
      expect(response.status).toBe(200);
      return ((await response.json()) as { events: Array<Record<string, unknown>> }).events;
    };
    const events = await get();
    const times: number[] = [];
    for (let run = 0; run < 5; run += 1) {
      const startedAt = performance.now();
      await get();
      times.push(performance.now() - startedAt);
    }
    return { ms: Math.min(...times), events };
  }

  it.each([
    ['by actor', 'actor=user7@example.com', { actorEmail: 'user7@example.com' }],
    ['by a busy app and a rare status', 'actor=*&app=app0&status=500', { app: 'app0', status: 500 }],
    ['by a quiet app and a status', 'actor=*&app=app150&status=403', { app: 'app150', status: 403 }],
    ['by action and subject', 'actor=*&action=restart&subject=apps', { action: 'restart', subject: 'apps' }],
    ['by a rare word', 'actor=*&q=sidekiq', { kind: 'rack.intent' }],
    ['by words that meet rarely', 'actor=*&q=rails%20app50', { kind: 'rack.intent', app: 'app50' }],
    ['by a common word', 'actor=*&q=restart', {}],
    ['by actor and a command', 'actor=user30@example.com&q=db:migrate', { actorEmail: 'user30@example.com' }],
  ])('%s answers in under 100 ms', async (_label, query, expected) => {
    const { ms, events } = await timedPage(query);
    expect(events.length).toBeGreaterThan(0);
    for (const event of events) expect(event).toMatchObject(expected);
    expect(ms).toBeLessThan(PAGE_BUDGET_MS);
  });

  it.each([
    ['an actor', `actor_email = 'user7@example.com'`],
    ['an app and a status', `app = 'app0' AND status = 500`],
    ['a word', `words @@ to_tsquery('simple', 'sidekiq:*')`],
    ['two words', `words @@ to_tsquery('simple', 'rails:* & app50:*')`],
  ])('finds events by %s through an index, never by reading the whole table', async (_label, condition) => {
    const plan = await database().query<Array<{ 'QUERY PLAN': string }>>(
      `EXPLAIN SELECT * FROM audit_events WHERE ${condition} ORDER BY seq DESC LIMIT 101`,
    );
    const text = plan.map((line) => line['QUERY PLAN']).join('\n');
    expect(text).toMatch(/Index/);
    expect(text).not.toMatch(/Seq Scan/);
  });
});

import { Client } from 'pg';
import { DataSource } from 'typeorm';
import type { WebhookNotice } from '../../src/notifications/webhook-notice';
import { WEBHOOK_QUEUE, WebhookNotifications } from '../../src/notifications/webhook-notifications.service';
import { freePort } from '../support/free-port';
import { MockRack, startMockRack } from '../support/mock-rack';
import { TestDatabase, createTestDatabase, describeOnPostgresServer } from '../support/test-database';
import { TestGateway, startTestGateway } from '../support/test-gateway';
import { WebhookReceiver, eventually } from '../support/webhook-receiver';

/** The part of a Slack webhook URL that is the credential: it must never reach a log line. */
const SECRET_PATH = '/services/T0GATEWAY/B0OUTBOX/webhook-secret-path';
/** Short retries, so a notice refused twice is delivered within seconds (the default first wait is 30 s). */
const FAST_RETRIES = { NOTIFICATION_RETRY_DELAY_SECONDS: '1', NOTIFICATION_RETRY_LIMIT: '5' };

/** Queues notices the way a module does: in its own transaction, alongside its change. */
async function enqueueInTransaction(gateway: TestGateway, notices: WebhookNotice[], afterwards?: () => void): Promise<void> {
  const notifications = gateway.app.get(WebhookNotifications);
  await gateway.app.get(DataSource).transaction(async (manager) => {
    await manager.query('SELECT 1');
    for (const notice of notices) await notifications.enqueue(notice, manager);
    afterwards?.();
  });
}

describe('the webhook outbox', () => {
  let rack: MockRack;
  let receiver: WebhookReceiver;
  let gateway: TestGateway;

  beforeAll(async () => {
    rack = await startMockRack();
    receiver = new WebhookReceiver(await freePort(), SECRET_PATH);
    await receiver.listen();
    gateway = await startTestGateway({
      rackUrl: rack.url,
      rackToken: rack.password,
      env: { NOTIFICATION_WEBHOOK_URL: receiver.url, ...FAST_RETRIES },
    });
  });

  afterAll(async () => {
    await gateway.close();
    await receiver.close();
    await rack.close();
  });

  it('delivers each committed notice once, as Slack JSON, after two refusals, under one delivery id', async () => {
    const requested: WebhookNotice = {
      event: 'deploy-approval.requested',
      text: 'ana@example.com asks to deploy myapp',
      fields: { App: 'myapp', Commit: 'abc1234' },
      url: `${gateway.url}/api/v1/deploy-approvals/1`,
    };
    const approved: WebhookNotice = { event: 'deploy-approval.approved', text: 'bo@example.com approved the deploy of myapp' };
    receiver.refusedTwice.add(requested.event).add(approved.event);
    await enqueueInTransaction(gateway, [requested, approved]);

    await eventually(() => receiver.deliveredOnce(requested.event) && receiver.deliveredOnce(approved.event));
    for (const notice of [requested, approved]) {
      const attempts = receiver.attemptsFor(notice.event);
      expect(attempts.map((attempt) => attempt.status)).toEqual([500, 500, 200]);
      expect(new Set(attempts.map((attempt) => attempt.id)).size).toBe(1);
      expect(attempts[0].id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      expect(attempts[2].headers).toMatchObject({
        'content-type': 'application/json',
        'user-agent': 'rack-gateway',
        'x-rack-gateway-event': notice.event,
      });
    }
    expect(receiver.attemptsFor(requested.event)[2].body).toEqual({
      text: requested.text,
      blocks: [
        { type: 'section', text: { type: 'mrkdwn', text: requested.text } },
        {
          type: 'section',
          fields: [
            { type: 'mrkdwn', text: '*App*\nmyapp' },
            { type: 'mrkdwn', text: '*Commit*\nabc1234' },
          ],
        },
        { type: 'context', elements: [{ type: 'mrkdwn', text: `<${requested.url}|Open in Rack Gateway>` }] },
      ],
      event: requested.event,
      fields: requested.fields,
      url: requested.url,
    });
    expect(receiver.attemptsFor(approved.event)[2].body).toEqual({
      text: approved.text,
      blocks: [{ type: 'section', text: { type: 'mrkdwn', text: approved.text } }],
      event: approved.event,
      fields: {},
    });

    const deliveryId = receiver.attemptsFor(approved.event)[0].id;
    expect(gateway.logs.text()).toContain(`webhook delivery ${deliveryId} for ${approved.event} failed (attempt 2): status 500`);
    expect(gateway.logs.text()).not.toContain(SECRET_PATH);
  });

  it('never delivers a notice whose transaction rolled back', async () => {
    const rolledBack: WebhookNotice = { event: 'deploy-approval.rejected', text: 'never happened' };
    await expect(
      enqueueInTransaction(gateway, [rolledBack], () => {
        throw new Error('the change failed');
      }),
    ).rejects.toThrow('the change failed');
    // A notice committed after it is delivered: the worker has been through the queue.
    const committed: WebhookNotice = { event: 'deploy-approval.expired', text: 'the request expired' };
    await enqueueInTransaction(gateway, [committed]);
    await eventually(() => receiver.deliveredOnce(committed.event));

    expect(receiver.attemptsFor(rolledBack.event)).toEqual([]);
    const jobs = await gateway.app
      .get(DataSource)
      .query<Array<{ count: string }>>(`SELECT count(*) FROM pgboss.job WHERE data->>'event' = $1`, [rolledBack.event]);
    expect(jobs).toEqual([{ count: '0' }]);
  });

  it('queues at once while the receiver is down, and delivers once it is back', async () => {
    await receiver.close();
    const deployed: WebhookNotice = { event: 'deploy-approval.deployed', text: 'myapp is deployed' };
    const started = Date.now();
    await enqueueInTransaction(gateway, [deployed]);
    expect(Date.now() - started).toBeLessThan(1_000);

    await eventually(() => /failed \(attempt 1\): network error ECONNREFUSED/.test(gateway.logs.text()));
    await receiver.listen();
    await eventually(() => receiver.deliveredOnce(deployed.event));
    expect(gateway.logs.text()).not.toContain(SECRET_PATH);
  });
});

describeOnPostgresServer('the webhook outbox on two gateway instances', () => {
  let rack: MockRack;
  let database: TestDatabase;
  let receiver: WebhookReceiver;
  let first: TestGateway;
  let second: TestGateway | undefined;

  beforeAll(async () => {
    rack = await startMockRack();
    database = await createTestDatabase();
    // Answers take a while, so deliveries are in flight when an instance is told to stop.
    receiver = new WebhookReceiver(await freePort(), SECRET_PATH, 1_000);
    await receiver.listen();
    const env = { DATABASE_URL: database.url ?? '', NOTIFICATION_WEBHOOK_URL: receiver.url, ...FAST_RETRIES };
    first = await startTestGateway({ rackUrl: rack.url, rackToken: rack.password, env });
    second = await startTestGateway({ rackUrl: rack.url, rackToken: rack.password, env });
  });

  afterAll(async () => {
    await first.close();
    await second?.close();
    await receiver.close();
    await rack.close();
    await database.drop();
  });

  /** How many jobs of these notices are in each state. */
  const jobStates = (notices: WebhookNotice[]) =>
    first.app
      .get(DataSource)
      .query<Array<{ state: string; count: string }>>(
        `SELECT state, count(*) FROM pgboss.job WHERE name = $1 AND data->>'event' = ANY($2) GROUP BY state`,
        [WEBHOOK_QUEUE, notices.map((notice) => notice.event)],
      );

  it('delivers each notice once across instances, and one stopping finishes its delivery in flight', async () => {
    const notices = Array.from({ length: 4 }, (_, index): WebhookNotice => ({
      event: `deploy-approval.test-${index}`,
      text: `notice ${index}`,
    }));
    await enqueueInTransaction(first, notices);

    // Each instance delivers one at a time: two unanswered requests mean both have a delivery in flight.
    await eventually(() => receiver.unanswered === 2);
    const stopping = second;
    second = undefined;
    await stopping?.close();

    const allCompleted = JSON.stringify([{ state: 'completed', count: String(notices.length) }]);
    await eventually(async () => JSON.stringify(await jobStates(notices)) === allCompleted);
    expect(notices.filter((notice) => !receiver.deliveredOnce(notice.event))).toEqual([]);
    expect(receiver.received).toHaveLength(notices.length);
  });

  it('outlives a database error as pg-boss records a finished delivery', async () => {
    const notice: WebhookNotice = { event: 'deploy-approval.interrupted', text: 'recorded while the database fails' };
    await enqueueInTransaction(first, [notice]);
    await eventually(() => receiver.attemptsFor(notice.event).length === 1);

    // While the receiver answers, the job table is locked; the statement marking the job completed waits
    // on the lock, and its connection is then cut.
    const locker = new Client({ connectionString: database.url });
    await locker.connect();
    try {
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE pgboss.job IN ACCESS EXCLUSIVE MODE');
      const completing = `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%completed_on = now()%'`;
      const waiting = async () => {
        // Within a transaction the statistics views keep their first snapshot unless told to drop it.
        await locker.query('SELECT pg_stat_clear_snapshot()');
        return (await locker.query(completing)).rows.length > 0;
      };
      await eventually(waiting);
      await locker.query(`SELECT pg_terminate_backend(pid) FROM (${completing}) blocked`);
      await locker.query('ROLLBACK');
    } finally {
      await locker.end();
    }

    await eventually(() => first.logs.text().includes('notification queue: terminating connection due to administrator command'));
    // The process goes on (an unhandled rejection would have failed this test), and so do deliveries.
    const next: WebhookNotice = { event: 'deploy-approval.after-the-error', text: 'delivered as usual' };
    await enqueueInTransaction(first, [next]);
    await eventually(() => receiver.deliveredOnce(next.event));
  });
});

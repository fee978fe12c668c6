import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import PgBoss from 'pg-boss';
import { DataSource, EntityManager } from 'typeorm';
import { GATEWAY_CONFIG, GatewayConfig } from '../config/gateway-config';
import { DELIVERY_TIMEOUT_MS, WebhookDeliveryError, deliverWebhook } from './webhook-delivery';
import type { WebhookNotice } from './webhook-notice';

/** pg-boss's queue of webhook deliveries, made by migration 1764430000000 in pg-boss's default schema. */
export const WEBHOOK_QUEUE = 'webhook-notifications';
/**
 * A delivery still active this long after it started is taken for lost (its instance died) and retried
 * by pg-boss's maintenance on any instance. Well above DELIVERY_TIMEOUT_MS, so a slow answer is never
 * sent twice for that reason.
 */
const DELIVERY_EXPIRY_SECONDS = 3 * (DELIVERY_TIMEOUT_MS / 1000);
/** On shutdown, deliveries in flight get this long to finish; pg-boss fails the rest, to be retried. */
const STOP_TIMEOUT_MS = DELIVERY_TIMEOUT_MS + 5_000;

type QueryRows = { rows: unknown[] };

/**
 * Announces events to NOTIFICATION_WEBHOOK_URL through a durable outbox on pg-boss. A notice is a pg-boss
 * job inserted in the caller's transaction: it exists exactly when the caller's change commits, and
 * nothing the receiver does can slow or fail the caller. Each instance runs a pg-boss worker; pg-boss
 * hands each job to one of them (FOR UPDATE SKIP LOCKED), fails it on a refusal or no answer, and
 * retries it with a growing delay. pg-boss queries through the gateway's own pool: the embedded engine
 * serves one connection, so a pool of pg-boss's own would wait on the gateway's forever.
 */
@Injectable()
export class WebhookNotifications implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(WebhookNotifications.name);
  private readonly retryPolicy: PgBoss.RetryOptions & PgBoss.ExpirationOptions;
  /** Without a webhook there is nothing to deliver and no pg-boss. */
  private readonly outbox: { readonly boss: PgBoss; readonly webhookUrl: string } | undefined;
  private started = false;
  /** pg-boss's queries on the pool not yet answered: shutdown waits for them before the pool closes. */
  private readonly pending = new Set<Promise<QueryRows>>();

  constructor(
    @Inject(GATEWAY_CONFIG) config: GatewayConfig,
    @InjectDataSource() private readonly dataSource: DataSource,
  ) {
    const { webhookUrl, retryLimit, retryDelaySeconds } = config.notifications;
    this.retryPolicy = { retryLimit, retryDelay: retryDelaySeconds, retryBackoff: true, expireInSeconds: DELIVERY_EXPIRY_SECONDS };
    if (!webhookUrl) return;
    const boss = new PgBoss({
      db: { executeSql: (text, values) => this.queryOnPool(text, values) },
      // The schema is migrations/1764430000000's; pg-boss only checks its version.
      migrate: false,
      // No cron jobs here: that would be one more worker and a clock poll for nothing.
      schedule: false,
    });
    boss.on('error', (error) => this.logger.error(`notification queue: ${error.message}`));
    this.outbox = { boss, webhookUrl };
  }

  /**
   * Queues a notice in the caller's transaction (`manager` is the transaction's EntityManager). Does
   * nothing when no webhook is configured.
   */
  async enqueue(notice: WebhookNotice, manager: EntityManager): Promise<void> {
    if (!this.outbox) return;
    const data = { event: notice.event, text: notice.text, fields: notice.fields, url: notice.url };
    // pg-boss's INSERT … RETURNING id, whose rows TypeORM's query() returns as they are.
    const inTransaction: PgBoss.Db = { executeSql: async (text, values) => ({ rows: await manager.query<unknown[]>(text, values) }) };
    await this.outbox.boss.send(WEBHOOK_QUEUE, data, { ...this.retryPolicy, db: inTransaction });
  }

  async onApplicationBootstrap(): Promise<void> {
    if (!this.outbox) return;
    const { boss, webhookUrl } = this.outbox;
    await boss.start();
    const worker = await boss.work<WebhookNotice>(WEBHOOK_QUEUE, { includeMetadata: true }, async ([job]) => {
      try {
        await this.deliver(webhookUrl, job);
      } finally {
        // The next queued delivery goes out now rather than at the next poll: a backlog drains at the receiver's pace.
        boss.notifyWorker(worker);
      }
    });
    this.started = true;
  }

  /**
   * Before the pool closes: no new deliveries start, those in flight finish (or are failed by pg-boss,
   * to be retried), and pg-boss's last queries are answered.
   */
  async beforeApplicationShutdown(): Promise<void> {
    if (!this.outbox) return;
    await this.outbox.boss.stop({ graceful: true, wait: true, timeout: STOP_TIMEOUT_MS });
    await Promise.allSettled(this.pending);
  }

  private async deliver(webhookUrl: string, job: PgBoss.JobWithMetadata<WebhookNotice>): Promise<void> {
    try {
      await deliverWebhook(webhookUrl, job.data, job.id);
    } catch (error) {
      const reason = error instanceof WebhookDeliveryError ? error.message : 'unexpected error';
      const failure = `webhook delivery ${job.id} for ${job.data.event} failed (attempt ${job.retryCount + 1}): ${reason}`;
      if (job.retryCount < job.retryLimit) this.logger.warn(failure);
      else this.logger.error(`${failure}; no retries left`);
      // pg-boss fails the job, and retries it after its delay.
      throw error;
    }
  }

  /**
   * One pg-boss statement on the gateway's pool. pg-boss 10 marks a finished job completed (or failed)
   * without awaiting it: a database error there would be an unhandled rejection, which ends the process.
   * So once started, a failed statement is logged and answered with nothing, as pg-boss's own pool
   * answers once closed, which pg-boss's worker and maintenance take in their stride. A job whose
   * completion was lost stays active until it expires, then is delivered again under the same id.
   */
  private queryOnPool(text: string, values: unknown[] | undefined): Promise<QueryRows> {
    const query = structuredQuery(this.dataSource, text, values);
    this.pending.add(query);
    const settled = () => this.pending.delete(query);
    void query.then(settled, settled);
    if (!this.started) return query;
    return query.catch((error: Error) => {
      this.logger.error(`notification queue: ${error.message}`);
      // Typed as rows, as pg-boss's Db interface wants; pg-boss itself reads `result?.rows`.
      return undefined as unknown as QueryRows;
    });
  }
}

/** The structured result: a bare query() answers UPDATE and DELETE with [rows, count], and pg-boss reads `rows`. */
async function structuredQuery(dataSource: DataSource, text: string, values: unknown[] | undefined): Promise<QueryRows> {
  const runner = dataSource.createQueryRunner();
  try {
    const result = await runner.query(text, values, true);
    return { rows: (result.records ?? []) as unknown[] };
  } finally {
    await runner.release();
  }
}

import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config';
import { type ChainHead, appendAfter } from './audit-chain';
import type { AuditRecord } from './audit-record';
import { AuditKey } from './audit-key';
import { AuditSpool } from './audit-spool';

/** Events written in one statement at most: a flush after an outage catches up in steps. */
const BATCH_SIZE = 500;
/** How long a read's event may wait for company before its batch is written. */
const FLUSH_DELAY_MS = 50;
/** Events waiting at most; past it the trail refuses new requests rather than lose their events. */
const QUEUE_LIMIT = 20_000;
/** While the database refuses, how often it is tried again (changes' intents try it at once). */
const RETRY_DELAY_MS = 500;
/** Appends lost to other instances' before one is given up (and retried later). */
const MAX_APPEND_ATTEMPTS = 20;
/** How often this process's spool is touched (see ABANDONED_AFTER_MS) and the directory searched for abandoned ones. */
const SPOOL_HOUSEKEEPING_MS = 10_000;

/**
 * How much an event's writer waits for: nothing (`queued`: reads, refusals), the chain (`commit`: a
 * change's intent, whose request is refused if it cannot be written), or the chain or the spool
 * (`durable`: a change's outcome, whose answer waits for it).
 */
type Pending =
  | { readonly record: AuditRecord; readonly kind: 'queued' }
  | { readonly record: AuditRecord; readonly kind: 'commit' | 'durable'; readonly settle: Settle };

interface Settle {
  resolve(): void;
  reject(error: Error): void;
}

/**
 * Appends events to the chain. Reads' events are queued and written in batches off the request
 * path; a mutating request's intent is written before the request goes on (`commit`), so nothing
 * reaches the rack unrecorded, and its outcome before its answer is complete (`recordDurably`). A
 * batch is appended in one statement that moves the chain head only from where this instance last
 * saw it, so several instances append in one order.
 *
 * A batch the database refuses goes to the spool (AUDIT_SPOOL_DIR), and so does everything after it
 * until the database takes the spool back, oldest first, before anything newer: the chain keeps this
 * instance's order. Intents are never spooled: their requests are refused while the database is
 * away. If the spool cannot be written either, events stay in memory and the trail stops accepting
 * requests. Shutdown writes or spools what is queued; the next start replays what was spooled.
 */
@Injectable()
export class AuditTrail implements OnApplicationShutdown {
  private readonly logger = new Logger(AuditTrail.name);
  private readonly spool: AuditSpool;
  private queue: Pending[] = [];
  private timer: NodeJS.Timeout | undefined;
  private housekeeping: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  /** The last write to the database failed: the spool takes events, and the database is tried every RETRY_DELAY_MS. */
  private databaseFailing = false;
  private lastAttemptAt = 0;
  private retryNow = false;
  private stopping = false;
  /** The last write to the spool failed: events stay queued, and new requests are refused. */
  private spoolFailing = false;
  /** The chain head as this instance last wrote or read it; stale when another instance appended. */
  private head: ChainHead | undefined;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly key: AuditKey,
    @Inject(GATEWAY_CONFIG) config: GatewayConfig,
  ) {
    this.spool = new AuditSpool(config.audit.spoolDir);
  }

  /** False while events pile up unwritten or cannot be spooled: new requests are then refused (fail closed). */
  get accepting(): boolean {
    return this.queue.length < QUEUE_LIMIT && !this.spoolFailing;
  }

  /** Events waiting in memory to be written: near zero while the database keeps up. */
  get queued(): number {
    return this.queue.length;
  }

  /** Events waiting in this process's spool for the database. */
  get spooled(): number {
    return this.spool.events;
  }

  /** Queues an event; it is written within FLUSH_DELAY_MS, spooled if it cannot be, and retried until it is. */
  record(record: AuditRecord): void {
    this.queue.push({ record, kind: 'queued' });
    this.schedule(this.queue.length >= BATCH_SIZE ? 0 : FLUSH_DELAY_MS);
  }

  /** Writes an event to the chain now; resolves once it is committed, rejects (and forgets it) if it could not be. */
  commit(record: AuditRecord): Promise<void> {
    return this.enqueueNow(record, 'commit');
  }

  /**
   * Writes an event now; resolves once it is committed to the chain or, if the database refuses, in
   * the spool. Rejects only when neither could take it; it then stays queued and is retried.
   */
  recordDurably(record: AuditRecord): Promise<void> {
    return this.enqueueNow(record, 'durable');
  }

  /**
   * Makes sure the spool can be written (the gateway does not start otherwise) and takes over the
   * spools of processes that are gone: a crashed one's, or one stopped while the database was away.
   */
  async recoverSpool(): Promise<void> {
    await this.spool.open();
    await this.claimAbandonedSpools();
    this.housekeeping = setInterval(() => void this.claimAbandonedSpools(), SPOOL_HOUSEKEEPING_MS).unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.housekeeping);
    this.stopping = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.flushing;
    this.retryNow = true;
    for (let attempt = 0; attempt < 3; attempt += 1) {
      await this.flush();
      if (this.queue.length === 0) break;
    }
    if (this.queue.length > 0) this.logger.error(`${this.queue.length} audit events could be neither written nor spooled before shutdown`);
    else if (this.spool.holdsEvents) this.logger.warn(`${this.spool.events} audit events are spooled; the next start replays them`);
  }

  private enqueueNow(record: AuditRecord, kind: 'commit' | 'durable'): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ record, kind, settle: { resolve, reject } });
      this.schedule(0);
    });
  }

  private async claimAbandonedSpools(): Promise<void> {
    try {
      if ((await this.spool.claimAbandoned()) > 0) {
        this.retryNow = true;
        this.schedule(0);
      }
    } catch (error) {
      this.logger.error(`Could not look for abandoned audit spools: ${(error as Error).message}`);
    }
  }

  private schedule(delayMs: number): void {
    // Shutdown flushes by itself, and nothing may run on after it.
    if (this.flushing || this.stopping) return;
    if (delayMs > 0) {
      this.timer ??= setTimeout(() => {
        this.timer = undefined;
        void this.flush();
      }, delayMs).unref();
      return;
    }
    clearTimeout(this.timer);
    this.timer = undefined;
    // Now, but after the current tick: events of the same tick share the transaction.
    setImmediate(() => void this.flush());
  }

  private flush(): Promise<void> {
    this.flushing ??= this.drain().finally(() => {
      this.flushing = undefined;
      if (this.queue.length > 0) this.schedule(this.nextDelay());
      else if (this.spool.holdsEvents) this.schedule(RETRY_DELAY_MS);
    });
    return this.flushing;
  }

  private nextDelay(): number {
    if (this.queue.some((pending) => pending.kind !== 'queued')) return 0;
    if (this.spoolFailing) return RETRY_DELAY_MS;
    return this.databaseFailing || this.spool.holdsEvents ? FLUSH_DELAY_MS : 0;
  }

  /** One pass: the spool first (if it holds anything and a retry is due), then the queue. Never runs twice at once. */
  private async drain(): Promise<void> {
    if (this.databaseFailing || this.spool.holdsEvents) {
      const due =
        this.retryNow || Date.now() - this.lastAttemptAt >= RETRY_DELAY_MS || this.queue.some((pending) => pending.kind === 'commit');
      this.retryNow = false;
      if (!due || !(await this.replaySpool())) {
        await this.spoolQueued();
        return;
      }
    }
    await this.writeQueued();
  }

  private async writeQueued(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.slice(0, BATCH_SIZE);
      try {
        await this.append(batch.map(({ record }) => record));
      } catch (error) {
        this.reportFailure(error as Error);
        await this.spoolQueued();
        return;
      }
      this.queue = this.queue.slice(batch.length);
      this.recovered();
      for (const pending of batch) if (pending.kind !== 'queued') pending.settle.resolve();
    }
  }

  /**
   * Appends the spooled events to the chain, file by file, oldest first; a file is removed once all of
   * it is committed. Events already in the chain are skipped: a write whose answer was lost may have
   * committed, and a replay cut short by a crash starts its file again. True when the spool is empty.
   */
  private async replaySpool(): Promise<boolean> {
    this.lastAttemptAt = Date.now();
    for (const file of this.spool.replayOrder()) {
      try {
        for await (const records of this.spool.read(file, BATCH_SIZE)) {
          const unwritten = await this.notInChain(records);
          if (unwritten.length > 0) await this.append(unwritten);
        }
        await this.spool.remove(file);
      } catch (error) {
        this.reportFailure(error as Error);
        return false;
      }
    }
    return true;
  }

  private async notInChain(records: readonly AuditRecord[]): Promise<AuditRecord[]> {
    const written = await this.dataSource.query<Array<{ id: string }>>(`SELECT id FROM audit_events WHERE id = ANY($1::uuid[])`, [
      records.map(({ id }) => id),
    ]);
    if (written.length === 0) return [...records];
    const ids = new Set(written.map(({ id }) => id));
    return records.filter(({ id }) => !ids.has(id));
  }

  /** Moves what is queued to the spool; intents are refused instead, since their requests can still be. */
  private async spoolQueued(): Promise<void> {
    const refused = this.queue.filter((pending) => pending.kind === 'commit');
    if (refused.length > 0) {
      this.queue = this.queue.filter((pending) => pending.kind !== 'commit');
      const error = new Error('the audit trail cannot write to its database');
      for (const pending of refused) if (pending.kind !== 'queued') pending.settle.reject(error);
    }
    const spooled = this.queue.slice();
    if (spooled.length === 0) return;
    try {
      await this.spool.append(spooled.map(({ record }) => record));
    } catch (error) {
      if (!this.spoolFailing)
        this.logger.error(`Audit events can be neither written nor spooled; refusing requests: ${(error as Error).message}`);
      this.spoolFailing = true;
      // Their answers go out now; the events stay queued like any other.
      this.queue = this.queue.map((pending) => {
        if (pending.kind !== 'durable') return pending;
        pending.settle.reject(error as Error);
        return { record: pending.record, kind: 'queued' };
      });
      return;
    }
    if (this.spoolFailing) this.logger.log('Audit events are being spooled again');
    this.spoolFailing = false;
    this.queue = this.queue.slice(spooled.length);
    for (const pending of spooled) if (pending.kind === 'durable') pending.settle.resolve();
  }

  private reportFailure(error: Error): void {
    if (!this.databaseFailing) this.logger.error(`Audit events cannot be written; spooling them and retrying: ${error.message}`);
    this.databaseFailing = true;
    this.lastAttemptAt = Date.now();
    // The write may have committed after all: read the head again rather than trust this one.
    this.head = undefined;
  }

  private recovered(): void {
    if (this.databaseFailing) this.logger.log('Audit events are being written again');
    this.databaseFailing = false;
    this.spoolFailing = false;
  }

  /**
   * Appends the batch after the head this instance last saw. If another instance appended meanwhile,
   * nothing is written; the head is read again and the batch linked to it. A change waits for this
   * before it is forwarded, so it stays one statement.
   */
  private async append(batch: readonly AuditRecord[]): Promise<void> {
    for (let attempt = 0; attempt < MAX_APPEND_ATTEMPTS; attempt += 1) {
      const head = (this.head ??= await this.readHead());
      this.head = await appendAfter((sql, parameters) => this.dataSource.query(sql, parameters), this.key.value, head, batch);
      if (this.head) return;
    }
    throw new Error(`the audit chain head kept moving: ${MAX_APPEND_ATTEMPTS} attempts to append failed`);
  }

  private async readHead(): Promise<ChainHead> {
    const [head] = await this.dataSource.query<Array<{ seq: string; hash: Buffer }>>(`SELECT seq, hash FROM audit_chain_head WHERE id = 1`);
    return { seq: Number(head.seq), hash: head.hash };
  }
}

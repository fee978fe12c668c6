import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { chainHash } from './audit-chain';
import { AUDIT_RECORD_FIELDS, type AuditRecord } from './audit-record';
import { AuditKey } from './audit-key';

/** Events written in one statement at most: a flush after an outage catches up in steps. */
const BATCH_SIZE = 500;
/** How long a read's event may wait for company before its batch is written. */
const FLUSH_DELAY_MS = 50;
/** Events waiting at most; past it the trail refuses new requests rather than lose their events. */
const QUEUE_LIMIT = 20_000;
const RETRY_DELAY_MS = 500;
/** Appends lost to other instances' before one is given up (and retried later). */
const MAX_APPEND_ATTEMPTS = 20;

interface Pending {
  readonly record: AuditRecord;
  /** Set for events a request waits on (a mutating request's intent). */
  readonly committed?: { resolve(): void; reject(error: Error): void };
}

/**
 * Appends events to the chain. Reads' events are queued and written in batches off the request
 * path; a mutating request's intent is written before the request goes on (`commit`), so nothing
 * reaches the rack unrecorded. A batch is appended in one statement that moves the chain head only
 * from where this instance last saw it, so several instances append in one order. A batch that fails
 * stays queued and is retried; `commit` callers are told at once, so their request can be refused.
 * Shutdown writes what is queued.
 */
@Injectable()
export class AuditTrail implements OnApplicationShutdown {
  private readonly logger = new Logger(AuditTrail.name);
  private queue: Pending[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private failing = false;
  /** The chain head as this instance last wrote or read it; stale when another instance appended. */
  private head: { seq: number; hash: Buffer } | undefined;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly key: AuditKey,
  ) {}

  /** False while events pile up unwritten: new requests are then refused (fail closed). */
  get accepting(): boolean {
    return this.queue.length < QUEUE_LIMIT;
  }

  /** Events waiting to be written: near zero while the database keeps up. */
  get queued(): number {
    return this.queue.length;
  }

  /** Queues an event; it is written within FLUSH_DELAY_MS, or retried until it is. */
  record(record: AuditRecord): void {
    this.queue.push({ record });
    this.schedule(this.queue.length >= BATCH_SIZE ? 0 : FLUSH_DELAY_MS);
  }

  /** Writes an event now; resolves once it is committed, rejects if it could not be. */
  commit(record: AuditRecord): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ record, committed: { resolve, reject } });
      this.schedule(0);
    });
  }

  async onApplicationShutdown(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    for (let attempt = 0; attempt < 3 && this.queue.length > 0; attempt += 1) await this.flush();
    if (this.queue.length > 0) this.logger.error(`${this.queue.length} audit events could not be written before shutdown`);
  }

  private schedule(delayMs: number): void {
    if (this.flushing) return;
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
    this.flushing ??= this.writeQueued().finally(() => {
      this.flushing = undefined;
      if (this.queue.length > 0) this.schedule(this.failing ? RETRY_DELAY_MS : 0);
    });
    return this.flushing;
  }

  private async writeQueued(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.slice(0, BATCH_SIZE);
      try {
        await this.append(batch);
      } catch (error) {
        this.reportFailure(error, batch);
        return;
      }
      this.queue = this.queue.slice(batch.length);
      if (this.failing) this.logger.log('Audit events are being written again');
      this.failing = false;
      for (const pending of batch) pending.committed?.resolve();
    }
  }

  /**
   * Appends the batch after the head this instance last saw, in one statement (one round trip): it
   * moves the head only if the head is still that one, and inserts only if it moved. If another
   * instance appended meanwhile, nothing is written; the head is read again and the batch linked
   * to it. A change waits for this before it is forwarded, so it stays one statement.
   */
  private async append(batch: readonly Pending[]): Promise<void> {
    for (let attempt = 0; attempt < MAX_APPEND_ATTEMPTS; attempt += 1) {
      const head = (this.head ??= await this.readHead());
      let { seq, hash } = head;
      const values: unknown[] = [head.seq, head.hash];
      const rows: string[] = [];
      for (const { record } of batch) {
        seq += 1;
        const prevHash = hash;
        hash = chainHash(this.key.value, seq, prevHash, record);
        const row = [seq, ...recordValues(record), prevHash, hash];
        rows.push(`(${row.map((_, column) => `$${values.length + column + 1}::${COLUMN_TYPES[column]}`).join(', ')})`);
        values.push(...row);
      }
      values.push(seq, hash);
      const appended = await this.dataSource.query<unknown[]>(
        `WITH moved AS (
           UPDATE audit_chain_head SET seq = $${values.length - 1}, hash = $${values.length}
           WHERE id = 1 AND seq = $1 AND hash = $2 RETURNING id)
         INSERT INTO audit_events (${COLUMNS.join(', ')})
         SELECT * FROM (VALUES ${rows.join(', ')}) AS batch WHERE EXISTS (SELECT 1 FROM moved)
         RETURNING seq`,
        values,
      );
      if (appended.length === batch.length) {
        this.head = { seq, hash };
        return;
      }
      this.head = undefined;
    }
    throw new Error(`the audit chain head kept moving: ${MAX_APPEND_ATTEMPTS} attempts to append failed`);
  }

  private async readHead(): Promise<{ seq: number; hash: Buffer }> {
    const [head] = await this.dataSource.query<Array<{ seq: string; hash: Buffer }>>(`SELECT seq, hash FROM audit_chain_head WHERE id = 1`);
    return { seq: Number(head.seq), hash: head.hash };
  }

  /** The batch stays queued for the retry, except the commits, whose requests are refused now. */
  private reportFailure(error: unknown, batch: readonly Pending[]): void {
    if (!this.failing) this.logger.error(`Audit events cannot be written; retrying: ${(error as Error).message}`);
    this.failing = true;
    const failed = new Set(batch.filter((pending) => pending.committed));
    this.queue = this.queue.filter((pending) => !failed.has(pending));
    for (const pending of failed) pending.committed?.reject(error as Error);
  }
}

const COLUMNS = ['seq', ...AUDIT_RECORD_FIELDS.map(({ column }) => column), 'prev_hash', 'hash'];
/** Each column's type, for the VALUES list (its parameters have none of their own there). */
const COLUMN_TYPES = ['bigint', ...AUDIT_RECORD_FIELDS.map(({ type }) => type), 'bytea', 'bytea'];

/** The record's columns between `seq` and `prev_hash`, in COLUMNS order. */
function recordValues(record: AuditRecord): unknown[] {
  return AUDIT_RECORD_FIELDS.map(({ field }) => (field === 'details' ? JSON.stringify(record.details) : record[field]));
}

import type { AuditRecord } from './audit-record';

/** Distinct reads folded at once at most; past it they are written early. */
const MAX_FOLDED = 10_000;

/** What each read adds to its folded event. */
export interface ReadSample {
  readonly bytesIn: number;
  readonly bytesOut: number;
  readonly durationMs: number;
  readonly at: Date;
}

interface Folded {
  readonly record: AuditRecord;
  count: number;
  bytesIn: number;
  bytesOut: number;
  durationMs: number;
  lastAt: Date;
}

/**
 * Folds identical successful reads (same caller, address, client, method, path and status: the CLI's
 * polling, a dashboard's refresh, health probes) seen within a window into one event with their
 * count, first and last time and total bytes, so every read is accounted for without an event each.
 * A repeated read costs a map lookup; its record is built only for the first of a window.
 */
export class ReadAggregator {
  private readonly folded = new Map<string, Folded>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly windowMs: number,
    private readonly write: (record: AuditRecord) => void,
  ) {}

  add(key: string, sample: ReadSample, firstRecord: () => AuditRecord): void {
    const existing = this.folded.get(key);
    if (existing) {
      existing.count += 1;
      existing.bytesIn += sample.bytesIn;
      existing.bytesOut += sample.bytesOut;
      existing.durationMs += sample.durationMs;
      existing.lastAt = sample.at;
      return;
    }
    const record = firstRecord();
    if (this.windowMs <= 0) {
      this.write(record);
      return;
    }
    if (this.folded.size >= MAX_FOLDED) this.flushAll();
    this.folded.set(key, { record, count: 1, ...sample, lastAt: sample.at });
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      this.flushAll();
    }, this.windowMs).unref();
  }

  flushAll(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    for (const folded of this.folded.values()) this.write(summary(folded));
    this.folded.clear();
  }
}

function summary({ record, count, bytesIn, bytesOut, durationMs, lastAt }: Folded): AuditRecord {
  if (count === 1) return record;
  return {
    ...record,
    bytesIn,
    bytesOut,
    durationMs: Math.round(durationMs),
    details: { ...record.details, count, firstAt: record.occurredAt.toISOString(), lastAt: lastAt.toISOString() },
  };
}

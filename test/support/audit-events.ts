import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { chainHash } from '../../src/audit/audit-chain';
import { AUDIT_RECORD_FIELDS, type AuditRecord } from '../../src/audit/audit-record';

/** Rows per INSERT: one array parameter per column, so a statement's size does not grow with its rows. */
const ROWS_PER_STATEMENT = 5_000;

/** A read's folded event, as the trail records one; `overrides` for the rest. */
export function readEvent(index: number, overrides: Partial<AuditRecord> = {}): AuditRecord {
  return {
    id: randomUUID(),
    occurredAt: new Date(),
    kind: 'rack.exchange',
    requestId: randomUUID(),
    actorEmail: 'viewer@example.com',
    actorTokenId: null,
    clientIp: '127.0.0.1',
    userAgent: 'convox/3.19.7',
    method: 'GET',
    path: '/apps/myapp/processes',
    route: 'GET /apps/{app}/processes',
    action: 'read',
    subject: 'processes',
    app: 'myapp',
    decision: 'allowed',
    reason: null,
    status: 200,
    durationMs: 3,
    bytesIn: 0,
    bytesOut: 1_024 + index,
    details: { queryKeys: [], transport: 'http', completed: true, count: 1 + (index % 7) },
    ...overrides,
  };
}

/**
 * Appends `count` events to the chain directly, linked with the chain's own function, in big
 * statements: a chain of 100,000 in seconds, where the trail's batches of 500 would take minutes. The
 * head row is locked meanwhile, so the gateway's own appends wait and then link after them.
 */
export async function appendChainedEvents(
  dataSource: DataSource,
  key: Buffer,
  count: number,
  record: (index: number) => AuditRecord = readEvent,
): Promise<{ readonly first: number; readonly last: number }> {
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  await runner.startTransaction();
  try {
    const query = `SELECT seq, hash FROM audit_chain_head WHERE id = 1 FOR UPDATE`;
    const [head] = (await runner.query(query)) as Array<{ seq: string; hash: Buffer }>;
    let seq = Number(head.seq);
    let hash = head.hash;
    const first = seq + 1;
    for (let start = 0; start < count; start += ROWS_PER_STATEMENT) {
      const columns: unknown[][] = COLUMNS.map(() => []);
      for (let index = start; index < Math.min(count, start + ROWS_PER_STATEMENT); index += 1) {
        const event = record(index);
        seq += 1;
        const prevHash = hash;
        hash = chainHash(key, seq, prevHash, event);
        const values = [
          seq,
          ...AUDIT_RECORD_FIELDS.map(({ field }) => (field === 'details' ? JSON.stringify(event.details) : event[field])),
          prevHash,
          hash,
        ];
        values.forEach((value, column) => columns[column].push(value));
      }
      await runner.query(
        `INSERT INTO audit_events (${COLUMNS.join(', ')}) SELECT * FROM unnest(${TYPES.map((type, column) => `$${column + 1}::${type}[]`).join(', ')})`,
        columns,
      );
    }
    await runner.query(`UPDATE audit_chain_head SET seq = $1, hash = $2 WHERE id = 1`, [seq, hash]);
    await runner.commitTransaction();
    return { first, last: seq };
  } catch (error) {
    await runner.rollbackTransaction();
    throw error;
  } finally {
    await runner.release();
  }
}

const COLUMNS = ['seq', ...AUDIT_RECORD_FIELDS.map(({ column }) => column), 'prev_hash', 'hash'];
const TYPES = ['bigint', ...AUDIT_RECORD_FIELDS.map(({ type }) => type), 'bytea', 'bytea'];

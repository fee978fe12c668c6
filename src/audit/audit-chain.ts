import canonicalize from 'canonicalize';
import { createHmac } from 'node:crypto';
import { AUDIT_RECORD_FIELDS, type AuditRecord } from './audit-record';

/** The link before the first event. */
export const GENESIS_HASH: Buffer = Buffer.alloc(32);

/**
 * The link of event `seq`: an HMAC-SHA256, under a key the database never holds, over the event's
 * content in RFC 8785 canonical JSON and the previous link. Changing, removing or reordering a stored
 * event breaks every link after it, and nobody without the key can forge new ones.
 */
export function chainHash(key: Buffer, seq: number, prevHash: Buffer, record: AuditRecord): Buffer {
  const fields = AUDIT_RECORD_FIELDS.map(({ field }) => (field === 'occurredAt' ? record.occurredAt.toISOString() : record[field]));
  const content = canonicalize([seq, prevHash.toString('hex'), ...fields]);
  return createHmac('sha256', key)
    .update(content ?? '')
    .digest();
}

/** The newest event's sequence number and link: where the next append goes. */
export interface ChainHead {
  readonly seq: number;
  readonly hash: Buffer;
}

/** Runs SQL with parameters: a DataSource's `query`, or a QueryRunner's inside its transaction. */
export type RunQuery = (sql: string, parameters: unknown[]) => Promise<unknown>;

/**
 * Appends `records` after `head` in one statement (one round trip): it moves the head only if the
 * head is still that one, and inserts only if it moved. Answers the new head, or nothing when another
 * writer appended first (nothing was written; read the head again and link after it).
 */
export async function appendAfter(
  runQuery: RunQuery,
  key: Buffer,
  head: ChainHead,
  records: readonly AuditRecord[],
): Promise<ChainHead | undefined> {
  let { seq, hash } = head;
  const values: unknown[] = [head.seq, head.hash];
  const rows: string[] = [];
  for (const record of records) {
    seq += 1;
    const prevHash = hash;
    hash = chainHash(key, seq, prevHash, record);
    const row = [seq, ...recordValues(record), prevHash, hash];
    rows.push(`(${row.map((_, column) => `$${values.length + column + 1}::${COLUMN_TYPES[column]}`).join(', ')})`);
    values.push(...row);
  }
  values.push(seq, hash);
  const appended = (await runQuery(
    `WITH moved AS (
       UPDATE audit_chain_head SET seq = $${values.length - 1}, hash = $${values.length}
       WHERE id = 1 AND seq = $1 AND hash = $2 RETURNING id)
     INSERT INTO audit_events (${COLUMNS.join(', ')})
     SELECT * FROM (VALUES ${rows.join(', ')}) AS batch WHERE EXISTS (SELECT 1 FROM moved)
     RETURNING seq`,
    values,
  )) as unknown[];
  return appended.length === records.length ? { seq, hash } : undefined;
}

const COLUMNS = ['seq', ...AUDIT_RECORD_FIELDS.map(({ column }) => column), 'prev_hash', 'hash'];
/** Each column's type, for the VALUES list (its parameters have none of their own there). */
const COLUMN_TYPES = ['bigint', ...AUDIT_RECORD_FIELDS.map(({ type }) => type), 'bytea', 'bytea'];

/** The record's columns between `seq` and `prev_hash`, in COLUMNS order. */
function recordValues(record: AuditRecord): unknown[] {
  return AUDIT_RECORD_FIELDS.map(({ field }) => (field === 'details' ? JSON.stringify(record.details) : record[field]));
}

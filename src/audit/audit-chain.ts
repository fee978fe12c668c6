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

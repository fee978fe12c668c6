import canonicalize from 'canonicalize';
import { createHmac } from 'node:crypto';
import type { AuditRecord } from './audit-record';

/** The link before the first event. */
export const GENESIS_HASH: Buffer = Buffer.alloc(32);

/**
 * The link of event `seq`: an HMAC-SHA256, under a key the database never holds, over the event's
 * content in RFC 8785 canonical JSON and the previous link. Changing, removing or reordering a stored
 * event breaks every link after it, and nobody without the key can forge new ones.
 */
export function chainHash(key: Buffer, seq: number, prevHash: Buffer, record: AuditRecord): Buffer {
  const content = canonicalize([
    seq,
    prevHash.toString('hex'),
    record.id,
    record.occurredAt.toISOString(),
    record.kind,
    record.requestId,
    record.actorEmail,
    record.actorTokenId,
    record.clientIp,
    record.userAgent,
    record.method,
    record.path,
    record.route,
    record.action,
    record.subject,
    record.app,
    record.decision,
    record.reason,
    record.status,
    record.durationMs,
    record.bytesIn,
    record.bytesOut,
    record.details,
  ]);
  return createHmac('sha256', key)
    .update(content ?? '')
    .digest();
}

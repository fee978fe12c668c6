import type { AuditRecord } from './audit-record';

/** Events that end a request. An intent is followed by its outcome's line; MFA events are no request's. */
const ENDS_A_REQUEST: ReadonlySet<string> = new Set(['rack.exchange', 'request.refused', 'api.request']);

/**
 * The request log's JSON line for an event, or undefined for an event that ends no request. It is
 * built from the audit record, which holds nothing secret (no header, body, cookie or query value;
 * an exec command masked), so the log holds nothing the trail does not. Folded reads are one line
 * with their `count` and summed duration, written when their window closes.
 */
export function requestLogLine(record: AuditRecord): Record<string, unknown> | undefined {
  if (!ENDS_A_REQUEST.has(record.kind)) return undefined;
  const count = record.details.count;
  return {
    msg: 'request',
    event: record.kind,
    requestId: record.requestId,
    method: record.method,
    route: record.route,
    path: record.path,
    status: record.status,
    durationMs: record.durationMs,
    actor: record.actorEmail,
    app: record.app,
    decision: record.decision,
    ...(record.reason === null ? {} : { reason: record.reason }),
    clientIp: record.clientIp,
    ...(record.bytesIn === null ? {} : { bytesIn: record.bytesIn, bytesOut: record.bytesOut }),
    ...(typeof count === 'number' ? { count } : {}),
  };
}

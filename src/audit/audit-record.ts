/** What happened, as the audit trail records it: everything but its place in the chain. */
export interface AuditRecord {
  readonly id: string;
  readonly occurredAt: Date;
  /** What kind of event: `rack.intent`, `rack.exchange`, `request.refused`, `api.request`, … */
  readonly kind: string;
  /** Correlates the events of one request (a mutating request's intent and its outcome). */
  readonly requestId: string | null;
  readonly actorEmail: string | null;
  readonly actorTokenId: string | null;
  readonly clientIp: string | null;
  readonly userAgent: string | null;
  readonly method: string | null;
  /** The path without its query (values there may be secrets); the query's keys go in details. */
  readonly path: string | null;
  /** The route pattern matched, e.g. `POST /apps/{app}/releases`. */
  readonly route: string | null;
  readonly action: string | null;
  readonly subject: string | null;
  readonly app: string | null;
  readonly decision: 'allowed' | 'denied';
  readonly reason: string | null;
  readonly status: number | null;
  readonly durationMs: number | null;
  readonly bytesIn: number | null;
  readonly bytesOut: number | null;
  /** Redacted before it gets here: nothing in an audit record is secret. */
  readonly details: Readonly<Record<string, unknown>>;
}

/**
 * Every field of a record, in the one order the chain hashes them, the table stores them and an
 * export lists them, with its column and SQL type. Changing the order changes every hash: append only.
 */
export const AUDIT_RECORD_FIELDS = [
  { field: 'id', column: 'id', type: 'uuid' },
  { field: 'occurredAt', column: 'occurred_at', type: 'timestamptz' },
  { field: 'kind', column: 'kind', type: 'varchar' },
  { field: 'requestId', column: 'request_id', type: 'varchar' },
  { field: 'actorEmail', column: 'actor_email', type: 'varchar' },
  { field: 'actorTokenId', column: 'actor_token_id', type: 'uuid' },
  { field: 'clientIp', column: 'client_ip', type: 'varchar' },
  { field: 'userAgent', column: 'user_agent', type: 'varchar' },
  { field: 'method', column: 'method', type: 'varchar' },
  { field: 'path', column: 'path', type: 'text' },
  { field: 'route', column: 'route', type: 'varchar' },
  { field: 'action', column: 'action', type: 'varchar' },
  { field: 'subject', column: 'subject', type: 'varchar' },
  { field: 'app', column: 'app', type: 'varchar' },
  { field: 'decision', column: 'decision', type: 'varchar' },
  { field: 'reason', column: 'reason', type: 'text' },
  { field: 'status', column: 'status', type: 'integer' },
  { field: 'durationMs', column: 'duration_ms', type: 'integer' },
  { field: 'bytesIn', column: 'bytes_in', type: 'bigint' },
  { field: 'bytesOut', column: 'bytes_out', type: 'bigint' },
  { field: 'details', column: 'details', type: 'jsonb' },
] as const satisfies ReadonlyArray<{ field: keyof AuditRecord; column: string; type: string }>;

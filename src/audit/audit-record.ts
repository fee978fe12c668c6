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

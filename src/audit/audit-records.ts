import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Principal } from '../auth/principal';
import type { MfaEvent } from '../mfa/mfa-events';
import { type MfaLevel, type SecondFactorUse, mfaLevelOfRoute } from '../mfa/mfa-levels';
import type { RackExchangeOutcome } from '../proxy/rack-exchange';
import type { AllowedRackRequest } from '../rbac/rack-authorizer.service';
import type { RackRoute } from '../rbac/rack-route-table';
import type { AuditRecord } from './audit-record';

/** Who made a request and from where, as every event of it records them. */
export interface RequestFacts {
  readonly requestId: string;
  readonly principal: Principal | undefined;
  readonly clientIp: string;
  readonly userAgent: string | null;
  readonly method: string;
  /** Without the query: its values may be secrets. */
  readonly path: string;
  /** The query's parameter names, which are not. */
  readonly queryKeys: readonly string[];
  /** The caller's second factor; none without a caller. */
  readonly mfa: MfaState | undefined;
}

/**
 * The caller's second factor as each event of a request records it (`details.mfa`), read from the
 * principal and what the pipeline noted on the request: no lookup.
 */
export interface MfaState {
  readonly enrolled: boolean;
  /** The route's level; absent when the request was refused before its level was known (an API route refused early). */
  readonly level?: MfaLevel;
  /** How the level was met, when it was. */
  readonly by?: SecondFactorUse['by'];
}

export function mfaState(
  principal: Principal | undefined,
  level: MfaLevel | undefined,
  use: SecondFactorUse | undefined,
): MfaState | undefined {
  if (!principal) return undefined;
  return { enrolled: principal.user.mfaEnrolledAt !== null, ...(level ? { level } : {}), ...(use ? { by: use.by } : {}) };
}

/** A rack route's level, as the MFA stage reads it (worked out once per row). */
export function rackRouteMfaLevel(route: RackRoute): MfaLevel {
  return mfaLevelOfRoute(route).level;
}

const USER_AGENT_LIMIT = 512;

/**
 * `method` is the pipeline's (`SOCKET` for websockets); `path` the one the rack routes, when a route
 * matched (the request's own target may have been rewritten for the rack by then).
 */
export function requestFacts(
  request: IncomingMessage,
  requestId: string,
  principal: Principal | undefined,
  clientIp: string,
  method: string,
  { decision, mfa }: { readonly decision?: AllowedRackRequest; readonly mfa?: MfaState } = {},
): RequestFacts {
  const [path, query] = splitTarget(request.url ?? '/');
  return {
    requestId,
    principal,
    clientIp,
    userAgent: request.headers['user-agent']?.slice(0, USER_AGENT_LIMIT) ?? null,
    method,
    path: decision?.target.path ?? path,
    queryKeys: query ? [...new Set(new URLSearchParams(query).keys())].sort() : [],
    mfa,
  };
}

/** What every event of a request has in its details. */
function requestDetails(facts: RequestFacts): Record<string, unknown> {
  return { queryKeys: facts.queryKeys, ...(facts.mfa ? { mfa: facts.mfa } : {}) };
}

function splitTarget(target: string): [string, string | undefined] {
  const mark = target.indexOf('?');
  return mark === -1 ? [target, undefined] : [target.slice(0, mark), target.slice(mark + 1)];
}

function base(kind: string, facts: RequestFacts): Omit<AuditRecord, 'decision' | 'reason' | 'status' | 'details'> {
  return {
    id: randomUUID(),
    occurredAt: new Date(),
    kind,
    requestId: facts.requestId,
    actorEmail: facts.principal?.user.email ?? null,
    actorTokenId: facts.principal?.kind === 'token' ? facts.principal.tokenId : null,
    clientIp: facts.clientIp,
    userAgent: facts.userAgent,
    method: facts.method,
    path: facts.path,
    route: null,
    action: null,
    subject: null,
    app: null,
    durationMs: null,
    bytesIn: null,
    bytesOut: null,
  };
}

function rackRoute({ route, app }: { route: RackRoute; app?: string }) {
  return { route: `${route.method} ${route.path}`, action: route.action, subject: route.subject, app: app ?? null };
}

/** A change to the rack about to be forwarded: written before the rack hears of it. */
export function rackIntent(facts: RequestFacts, decision: AllowedRackRequest, details: Record<string, unknown>): AuditRecord {
  return {
    ...base('rack.intent', facts),
    ...rackRoute(decision),
    decision: 'allowed',
    reason: null,
    status: null,
    details: { ...requestDetails(facts), ...details },
  };
}

/** How a forwarded exchange ended. */
export function rackExchange(facts: RequestFacts, outcome: RackExchangeOutcome, details: Record<string, unknown>): AuditRecord {
  return {
    ...base('rack.exchange', facts),
    ...rackRoute(outcome.decision),
    decision: 'allowed',
    reason: outcome.cutBecause ?? null,
    status: outcome.status,
    durationMs: Math.round(outcome.durationMs),
    bytesIn: outcome.bytesIn,
    bytesOut: outcome.bytesOut,
    details: {
      ...requestDetails(facts),
      transport: outcome.transport,
      completed: outcome.completed,
      ...(outcome.closeCode === undefined ? {} : { closeCode: outcome.closeCode }),
      ...(outcome.exitCode === undefined ? {} : { exitCode: outcome.exitCode }),
      ...(outcome.createdIds === undefined ? {} : { createdIds: outcome.createdIds }),
      ...details,
    },
  };
}

/** A request the gateway refused (bad target, credential, permission, limit) before anything was forwarded. */
/** `matched`: the rack route the request was allowed or refused for, when one matched. */
export function refusal(
  facts: RequestFacts,
  status: number,
  reason: string,
  matched: { route?: RackRoute; app?: string } | undefined,
): AuditRecord {
  return {
    ...base('request.refused', facts),
    ...(matched?.route ? rackRoute({ route: matched.route, app: matched.app }) : {}),
    decision: 'denied',
    reason,
    status,
    details: requestDetails(facts),
  };
}

/** A call of the gateway's own API that was answered (refusals are `request.refused`). */
export function apiRequest(facts: RequestFacts, route: string, status: number, durationMs: number): AuditRecord {
  return {
    ...base('api.request', facts),
    route,
    decision: 'allowed',
    reason: null,
    status,
    durationMs: Math.round(durationMs),
    details: requestDetails(facts),
  };
}

/** Something that happened to a person's second factors: verified, failed, locked, a method added or removed. */
export function mfaEvent(event: MfaEvent): AuditRecord {
  return gatewayEvent(event.kind, {
    actorEmail: event.userEmail,
    clientIp: event.clientIp ?? null,
    decision: event.kind === 'mfa.failed' || event.kind === 'mfa.locked' ? 'denied' : 'allowed',
    reason: event.reason ?? null,
    details: event.method ? { method: event.method } : {},
  });
}

/**
 * An event no client request carries (a second factor's fate, a retention, a finding of the
 * reconciliation): the fields it names, nothing for the rest.
 */
export function gatewayEvent(kind: string, fields: Partial<Omit<AuditRecord, 'id' | 'occurredAt' | 'kind'>>): AuditRecord {
  return {
    id: randomUUID(),
    occurredAt: new Date(),
    kind,
    requestId: null,
    actorEmail: null,
    actorTokenId: null,
    clientIp: null,
    userAgent: null,
    method: null,
    path: null,
    route: null,
    action: null,
    subject: null,
    app: null,
    decision: 'allowed',
    reason: null,
    status: null,
    durationMs: null,
    bytesIn: null,
    bytesOut: null,
    details: {},
    ...fields,
  };
}

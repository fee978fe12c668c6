import type { IncomingMessage, ServerResponse } from 'node:http';

import type { RackClock, TimerRegistry } from './rack-clock';
import type { RackSocket } from './rack-socket';
import type { RackState } from './rack-state';
import type { PathVars } from './route-table';

/** What every route handler can reach: the rack's state plus its timing knobs. */
export interface RackRuntime {
  readonly state: RackState;
  readonly clock: RackClock;
  /** Session timers (promote waits, log follow, exec sleeps); all cancelled when the rack closes. */
  readonly timers: TimerRegistry;
  readonly password: string;
  readonly promoteMs: number;
  readonly logIntervalMs: number;
}

export interface ReceivedBody {
  size: number;
  sha256: string;
  /** The bytes, when the body stayed under the retention limit. */
  bytes: Buffer | null;
}

export interface HttpRouteContext {
  readonly runtime: RackRuntime;
  readonly request: IncomingMessage;
  readonly response: ServerResponse;
  readonly vars: PathVars;
  readonly query: URLSearchParams;
  readonly body: ReceivedBody;
  /** Aborted when the client goes away before the response is complete. */
  readonly signal: AbortSignal;
  /** stdapi `param:` lookup: the POST/PUT/PATCH form body, then the query; undefined when absent. */
  readonly form: (name: string) => string | undefined;
  /** A request header; undefined when absent. */
  readonly header: (name: string) => string | undefined;
}

export interface SocketRouteContext {
  readonly runtime: RackRuntime;
  readonly socket: RackSocket;
  readonly vars: PathVars;
  readonly header: (name: string) => string | undefined;
}

export type RackRouteHandler =
  | { kind: 'http'; handle(context: HttpRouteContext): void | Promise<void> }
  | { kind: 'socket'; handle(context: SocketRouteContext): Promise<void> };

import { PathPattern } from './route-table';

/**
 * Per-route failures a test can switch on: a different status, latency, or a connection that dies.
 * Faults are matched in the order they were added; `times` makes one expire after that many hits.
 */
export interface Fault {
  /** `GET`, `POST`, …, `SOCKET` for websocket upgrades, or `*` for any. */
  method: string;
  /** An exact raw path (`/apps/myapp`) or a route pattern (`/apps/{app}/builds/{id}`). */
  path: string;
  /**
   * Answer with this status instead of running the route. A body, when given, is rendered in the rack's
   * error shape (text or JSON by Accept); otherwise the body is empty. For SOCKET it rejects the handshake.
   */
  status?: number;
  body?: string;
  /** Wait this long before answering (HTTP) or before the handshake (SOCKET). */
  delayMs?: number;
  /**
   * Kill the TCP connection this many milliseconds after it arrived, with no response (HTTP) or no close
   * frame (SOCKET: the upgrade and handler run normally until then).
   */
  dropAfterMs?: number;
  /** How many matching requests this fault applies to; unlimited when absent. */
  times?: number;
}

interface ArmedFault {
  fault: Fault;
  pattern: PathPattern | null;
  remaining: number;
}

export class FaultInjector {
  private armed: ArmedFault[] = [];

  add(fault: Fault): void {
    const validated = parseFault(fault);
    this.armed.push({
      fault: validated,
      pattern: validated.path.includes('{') ? new PathPattern(validated.path) : null,
      remaining: validated.times ?? Number.POSITIVE_INFINITY,
    });
  }

  clear(): void {
    this.armed = [];
  }

  list(): Fault[] {
    return this.armed.map(({ fault }) => ({ ...fault }));
  }

  /** The first fault matching this request, consuming one of its `times`. */
  take(method: string, rawPath: string, decodedPath: string): Fault | null {
    const index = this.armed.findIndex(
      ({ fault, pattern }) =>
        (fault.method === '*' || fault.method.toUpperCase() === method) &&
        (pattern ? pattern.match(decodedPath) !== null : fault.path === rawPath || fault.path === decodedPath),
    );
    if (index < 0) return null;
    const armed = this.armed[index];
    armed.remaining -= 1;
    if (armed.remaining <= 0) this.armed.splice(index, 1);
    return armed.fault;
  }
}

/** Narrows untrusted input (the control plane's JSON body) into a Fault, naming every bad field. */
export function parseFault(input: unknown): Fault {
  if (typeof input !== 'object' || input === null) throw new Error('fault must be a JSON object');
  const record = input as Record<string, unknown>;
  const problems: string[] = [];
  const text = (name: string, required: boolean): string | undefined => {
    const value = record[name];
    if (value === undefined && !required) return undefined;
    if (typeof value !== 'string' || value === '') problems.push(`${name} must be a non-empty string`);
    return typeof value === 'string' ? value : undefined;
  };
  const count = (name: string, minimum: number): number | undefined => {
    const value = record[name];
    if (value === undefined) return undefined;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < minimum) problems.push(`${name} must be an integer >= ${minimum}`);
    return typeof value === 'number' ? value : undefined;
  };
  const fault: Fault = { method: text('method', true) ?? '', path: text('path', true) ?? '' };
  const status = count('status', 100);
  const body =
    record.body === undefined
      ? undefined
      : typeof record.body === 'string'
        ? record.body
        : (problems.push('body must be a string'), undefined);
  const delayMs = count('delayMs', 0);
  const dropAfterMs = count('dropAfterMs', 0);
  const times = count('times', 1);
  if (status !== undefined && status > 599) problems.push('status must be <= 599');
  if (status === undefined && delayMs === undefined && dropAfterMs === undefined)
    problems.push('one of status, delayMs or dropAfterMs is required');
  if (problems.length > 0) throw new Error(`invalid fault: ${problems.join('; ')}`);
  if (status !== undefined) fault.status = status;
  if (body !== undefined) fault.body = body;
  if (delayMs !== undefined) fault.delayMs = delayMs;
  if (dropAfterMs !== undefined) fault.dropAfterMs = dropAfterMs;
  if (times !== undefined) fault.times = times;
  return fault;
}

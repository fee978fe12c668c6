import { ControlPlane } from './control-plane';
import { FaultInjector, parseFault, type Fault } from './fault-injector';
import { RackClock, TimerRegistry } from './rack-clock';
import { createRackRoutes } from './rack-routes';
import { RackServer } from './rack-server';
import { RackState, type MockRackStateSnapshot } from './rack-state';
import { RequestJournal, type JournalEntry } from './request-journal';
import type { RackRuntime } from './route-context';

/**
 * A realistic in-process Convox v3 rack for gateway tests: the real rack's routes, wire shapes, websocket
 * framing and error formats, deterministic seeded state, a request journal, fault injection, and a
 * control plane on a separate port. Fidelity notes cite convox/convox (pkg/api, vendored stdapi).
 */

export type { Fault } from './fault-injector';
export type { JournalEntry, JournalFrame } from './request-journal';
export type { MockRackStateSnapshot, ProcessRunRecord } from './rack-state';
export { BUILD_FAILURE_MARKER } from './rack-state';
export { DEFAULT_MANIFEST, RACK_DOMAIN, RACK_VERSION, SEED, SEED_ENV } from './rack-seed';
export { EXIT_MARKER_PREFIX } from './rack-wire';
export { INVALID_UTF8_BYTES, STREAM_FRAME_BYTES } from './exec-script';
export type * from './rack-structs';

export const DEFAULT_MOCK_RACK_PASSWORD = 'mock-rack-password-5f3a9c';

export interface MockRackOptions {
  /** The rack password; empty accepts any credential, as a real rack without PASSWORD does. */
  password?: string;
  /** Serve the rack API over TLS (the control plane stays plain HTTP). */
  https?: { key: string | Buffer; cert: string | Buffer };
  /** Build lifecycle duration, created → running → complete. Default 200 ms. */
  buildMs?: number;
  /** How long a promote request is held open before the app switches release. Default 0. */
  promoteMs?: number;
  /** Interval between lines on followed log sockets. Default 500 ms. */
  logIntervalMs?: number;
  /** How long a `convox run` process stays pending. Default 1000 ms, like a real pod start. */
  processStartMs?: number;
}

export interface MockRack {
  /** The rack API, e.g. http://127.0.0.1:43123. */
  readonly url: string;
  /** The control plane, on another port. */
  readonly controlUrl: string;
  readonly password: string;
  /** A copy of the journal, oldest first. */
  requests(): JournalEntry[];
  clearRequests(): void;
  /** State back to seed; journal and faults cleared. */
  reset(): void;
  injectFault(fault: Fault): void;
  clearFaults(): void;
  state(): MockRackStateSnapshot;
  /** Closes every server, socket and timer. */
  close(): Promise<void>;
}

export async function startMockRack(options: MockRackOptions = {}): Promise<MockRack> {
  const password = options.password ?? DEFAULT_MOCK_RACK_PASSWORD;
  const clock = new RackClock();
  const state = new RackState(
    password,
    { buildMs: options.buildMs ?? 200, processStartMs: options.processStartMs ?? 1000, appCreateMs: 100 },
    clock,
  );
  const timers = new TimerRegistry();
  const runtime: RackRuntime = {
    state,
    clock,
    timers,
    password,
    promoteMs: options.promoteMs ?? 0,
    logIntervalMs: options.logIntervalMs ?? 500,
  };
  const journal = new RequestJournal();
  const faults = new FaultInjector();
  const rack = new RackServer({ runtime, routes: createRackRoutes(), journal, faults, tls: options.https });

  const reset = (): void => {
    clock.restart();
    state.reset();
    journal.clear();
    faults.clear();
  };
  const control = new ControlPlane({
    reset,
    state: () => state.snapshot(),
    requests: () => journal.entries(),
    clearRequests: () => journal.clear(),
    injectFault: (fault) => faults.add(parseFault(fault)),
    faults: () => faults.list(),
    clearFaults: () => faults.clear(),
  });

  const [url, controlUrl] = await Promise.all([rack.listen(), control.listen()]);
  let closing: Promise<void> | null = null;

  return {
    url,
    controlUrl,
    password,
    requests: () => journal.entries(),
    clearRequests: () => journal.clear(),
    reset,
    injectFault: (fault) => faults.add(fault),
    clearFaults: () => faults.clear(),
    state: () => state.snapshot(),
    close: () => {
      closing ??= (async () => {
        timers.cancelAll();
        state.dispose();
        await Promise.all([rack.close(), control.close()]);
        timers.cancelAll();
      })();
      return closing;
    },
  };
}

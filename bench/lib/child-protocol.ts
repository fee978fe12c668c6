import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';

/** What a server under test tells the bench runner over IPC once it listens. */
export interface ServerReadyMessage {
  readonly kind: 'ready';
  readonly port: number;
  /** A gateway token, for the gateway only. */
  readonly token?: string;
}

/** The runner's requests to a server under test. */
export type ControlMessage =
  { readonly kind: 'stop' } | { readonly kind: 'profile-start' } | { readonly kind: 'profile-stop'; readonly path: string };

/** A server's answer to a profile request. */
export interface ProfileAnswer {
  readonly kind: 'profile-started' | 'profile-written';
  readonly error?: string;
}

export function isServerReadyMessage(message: unknown): message is ServerReadyMessage {
  return kindOf(message) === 'ready';
}

export function isProfileAnswer(message: unknown): message is ProfileAnswer {
  return kindOf(message) === 'profile-started' || kindOf(message) === 'profile-written';
}

function isControlMessage(message: unknown): message is ControlMessage {
  const kind = kindOf(message);
  return kind === 'stop' || kind === 'profile-start' || kind === 'profile-stop';
}

function kindOf(message: unknown): unknown {
  return typeof message === 'object' && message !== null ? (message as { kind?: unknown }).kind : undefined;
}

/**
 * Reports readiness to the runner, then serves its requests: a clean close on `stop` (or SIGTERM,
 * SIGINT, or the runner going away), and a V8 CPU profile of just the span between `profile-start` and
 * `profile-stop`, so start-up work (compiling, migrations) stays out of it.
 */
export function serveUntilStopped(ready: ServerReadyMessage, close: () => Promise<void>): void {
  let stopping = false;
  const profiler = new Session();
  const stop = () => {
    if (stopping) return;
    stopping = true;
    close()
      .catch((error: Error) => process.stderr.write(`close failed: ${error.message}\n`))
      .finally(() => process.exit(0));
  };
  const answer = (kind: ProfileAnswer['kind'], error: Error | null) =>
    process.send?.({ kind, error: error?.message } satisfies ProfileAnswer);

  process.on('message', (message) => {
    if (!isControlMessage(message)) return;
    if (message.kind === 'stop') stop();
    if (message.kind === 'profile-start') {
      profiler.connect();
      profiler.post('Profiler.enable', () =>
        profiler.post('Profiler.setSamplingInterval', { interval: 250 }, () =>
          profiler.post('Profiler.start', (error) => answer('profile-started', error)),
        ),
      );
    }
    if (message.kind === 'profile-stop') {
      profiler.post('Profiler.stop', (error, result) => {
        if (!error) writeFileSync(message.path, JSON.stringify(result.profile));
        profiler.disconnect();
        answer('profile-written', error);
      });
    }
  });
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.on('disconnect', stop);
  process.send?.(ready);
}

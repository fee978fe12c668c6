import { RACK_EPOCH_MS } from './rack-clock';
import type { RackRuntime } from './route-context';
import type { RackSocket } from './rack-socket';
import type { RackProcess } from './rack-structs';
import { formatGoTime, parseGoBool, parseGoDuration, parseGoInt } from './rack-wire';

/**
 * Log sockets (app, service, process, system). History is synthesised on demand: one line every
 * 10 seconds of rack time over the last 10 minutes, round-robin over the matching processes, so `Since`,
 * `Tail` and `Filter` have something real to cut. Lines use the CloudWatch shape of the AWS provider:
 * `<RFC3339> <stream> <message>\n` with `Prefix: true`, the bare message without.
 */

export interface LogOptions {
  follow: boolean;
  sinceMs: number;
  prefix: boolean;
  filter: string | null;
  tail: number | null;
}

export interface LogSource {
  stream: string;
  service: string;
}

const HISTORY_STEP_MS = 10_000;
const HISTORY_LINES = 60;

/** structs.LogsOptions with the rack's defaults: follow unless `Follow: false`, `Since` 2m. */
export function readLogOptions(header: (name: string) => string | undefined): LogOptions {
  const follow = header('follow');
  const since = header('since');
  const prefix = header('prefix');
  const tail = header('tail');
  return {
    follow: follow === undefined ? true : parseGoBool(follow),
    sinceMs: since === undefined ? 120_000 : parseGoDuration(since),
    prefix: prefix === undefined ? false : parseGoBool(prefix),
    filter: header('filter') || null,
    tail: tail === undefined ? null : parseGoInt(tail),
  };
}

export function processLogSource(process: RackProcess, kind: 'service' | 'system' = 'service'): LogSource {
  return { stream: `${kind}/${process.service}/${process.id}`, service: process.service };
}

function logMessage(source: LogSource, seq: number): string {
  if (source.service === 'web') return `GET /items/${seq} 200 ${(seq % 40) + 2}ms`;
  if (source.service === 'worker') return `processed job ${seq}`;
  return `ns=${source.service} at=heartbeat seq=${seq}`;
}

function formatLine(timeMs: number, source: LogSource, seq: number, options: LogOptions): string | null {
  const message = logMessage(source, seq);
  if (options.filter !== null && !message.includes(options.filter)) return null;
  return options.prefix ? `${formatGoTime(new Date(timeMs))} ${source.stream} ${message}\n` : `${message}\n`;
}

/** Small, stable line numbers: 1000 at the rack epoch, one per history step. */
function sequenceAt(timeMs: number): number {
  return 1000 + Math.floor((timeMs - RACK_EPOCH_MS) / HISTORY_STEP_MS);
}

export function historyLines(sources: LogSource[], options: LogOptions, nowMs: number): string[] {
  if (sources.length === 0) return [];
  const newest = Math.floor(nowMs / HISTORY_STEP_MS) * HISTORY_STEP_MS;
  const lines: string[] = [];
  for (let back = HISTORY_LINES - 1; back >= 0; back--) {
    const timeMs = newest - back * HISTORY_STEP_MS;
    if (options.sinceMs > 0 && nowMs - timeMs > options.sinceMs) continue;
    const seq = sequenceAt(timeMs);
    const line = formatLine(timeMs, sources[seq % sources.length], seq, options);
    if (line !== null) lines.push(line);
  }
  return options.tail !== null && options.tail >= 0 ? lines.slice(Math.max(0, lines.length - options.tail)) : lines;
}

/** Sends the history, then (when following) one new line per `logIntervalMs` until the client leaves. */
export async function streamLogs(socket: RackSocket, runtime: RackRuntime, options: LogOptions, sources: () => LogSource[]): Promise<void> {
  for (const line of historyLines(sources(), options, runtime.clock.nowMs())) await socket.write(line);
  if (!options.follow) return;
  let seq = sequenceAt(runtime.clock.nowMs());
  while (await runtime.timers.sleep(runtime.logIntervalMs, socket.signal)) {
    const current = sources();
    if (current.length === 0) continue;
    seq += 1;
    const line = formatLine(runtime.clock.nowMs(), current[seq % current.length], seq, options);
    if (line !== null) await socket.write(line);
  }
}

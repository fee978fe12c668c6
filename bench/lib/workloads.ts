import autocannon from 'autocannon';
import { randomBytes } from 'node:crypto';
import { Agent, IncomingMessage, request as httpRequest } from 'node:http';
import { performance } from 'node:perf_hooks';
import { WebSocket } from 'ws';
import { LatencyRecorder } from './latency-recorder';

export const MIB = 1024 * 1024;

/** What one run of a workload against one system measured. RSS is sampled by the runner around it. */
export interface Measurement {
  /** Requests, uploads, sessions or websocket opens per second, by workload. */
  readonly perSecond: number;
  readonly latencyMs: { readonly p50?: number; readonly p99?: number; readonly p99_9?: number };
  /** Payload moved per second (response bytes for small GETs, request body for uploads, frames for exec). */
  readonly mibPerSecond: number;
  /** Connection errors, non-2xx answers, short or broken streams. */
  readonly failures: number;
  readonly samples: number;
  readonly seconds: number;
}

export interface Target {
  readonly url: string;
  /** Sent to every system alike; only the gateway reads it. */
  readonly authorization: string;
}

/** Slices of one random block stand in for upload bodies: no generation cost inside the measurement. */
const UPLOAD_BLOCK = randomBytes(MIB);
const UPLOAD_WRITE_BYTES = 64 * 1024;

/** Keep-alive `GET /apps` at a fixed number of connections for a fixed time (autocannon). */
export async function smallGets(target: Target, connections: number, seconds: number): Promise<Measurement> {
  return runAutocannon({
    url: `${target.url}/apps`,
    connections,
    duration: seconds,
    headers: { authorization: target.authorization, accept: 'application/json' },
  });
}

/** 1 MiB bodies posted back to back on `connections` keep-alive connections for a fixed time. */
export async function mebibyteUploads(target: Target, connections: number, seconds: number): Promise<Measurement> {
  const result = await runAutocannon({
    url: `${target.url}/apps/bench/objects/tmp/upload`,
    method: 'POST',
    connections,
    duration: seconds,
    headers: { authorization: target.authorization, 'content-type': 'application/octet-stream' },
    body: UPLOAD_BLOCK,
  });
  return { ...result, mibPerSecond: result.perSecond };
}

async function runAutocannon(options: autocannon.Options): Promise<Measurement> {
  const latencies = new LatencyRecorder();
  let failures = 0;
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon({ ...options, timeout: 30 }, (error: unknown, finished) =>
      error ? reject(error instanceof Error ? error : new Error('autocannon failed')) : resolve(finished),
    );
    // autocannon's own histogram has 1 ms resolution; loopback latencies need finer.
    instance.on('response', (_client, statusCode: number, _bytes, responseTime: number) => {
      if (statusCode >= 200 && statusCode < 300) latencies.record(responseTime);
      else failures += 1;
    });
  });
  const seconds = (result.finish.getTime() - result.start.getTime()) / 1000;
  return {
    perSecond: latencies.count / seconds,
    latencyMs: latencies.percentiles(),
    mibPerSecond: result.throughput.total / MIB / seconds,
    failures: failures + result.errors,
    samples: latencies.count,
    seconds,
  };
}

/** `count` uploads of `bytes` each, one after another on one connection, streamed in 64 KiB writes. */
export async function streamedUploads(target: Target, bytes: number, count: number): Promise<Measurement> {
  const latencies = new LatencyRecorder();
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  let failures = 0;
  const started = performance.now();
  try {
    for (let index = 0; index < count; index += 1) {
      const uploadStarted = performance.now();
      const received = await streamUpload(target, agent, bytes).catch(() => -1);
      if (received === bytes) latencies.record(performance.now() - uploadStarted);
      else failures += 1;
    }
  } finally {
    agent.destroy();
  }
  return measurementSince(started, latencies, failures, bytes);
}

/** One upload; resolves to the byte count the upstream says it drained. */
function streamUpload(target: Target, agent: Agent, bytes: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const upload = httpRequest(
      `${target.url}/apps/bench/objects/tmp/large-upload`,
      {
        method: 'POST',
        agent,
        headers: { authorization: target.authorization, 'content-type': 'application/octet-stream', 'content-length': bytes },
      },
      (response: IncomingMessage) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', reject);
        response.on('end', () => {
          if (response.statusCode !== 200) {
            reject(new Error(`upload answered ${response.statusCode}`));
            return;
          }
          resolve((JSON.parse(Buffer.concat(chunks).toString('utf8')) as { bytes: number }).bytes);
        });
      },
    );
    upload.on('error', reject);
    let sent = 0;
    const write = () => {
      while (sent < bytes) {
        const offset = sent % MIB;
        const size = Math.min(UPLOAD_WRITE_BYTES, bytes - sent, MIB - offset);
        sent += size;
        if (!upload.write(UPLOAD_BLOCK.subarray(offset, offset + size))) {
          upload.once('drain', write);
          return;
        }
      }
      upload.end();
    };
    write();
  });
}

const EXIT_MARKER = 'F1E49A85-0AD7-4AEF-A618-C249C6E6568D:0\n';
const CLIENT_SOCKET_OPTIONS = { perMessageDeflate: false, skipUTF8Validation: true, maxPayload: 0 } as const;

/** `count` exec sessions one after another, each streaming `bytes` of output down to the client. */
export async function execStreams(target: Target, bytes: number, count: number): Promise<Measurement> {
  const latencies = new LatencyRecorder();
  let failures = 0;
  const started = performance.now();
  for (let index = 0; index < count; index += 1) {
    const sessionStarted = performance.now();
    const received = await execSession(target, bytes).catch(() => -1);
    if (received === bytes) latencies.record(performance.now() - sessionStarted);
    else failures += 1;
  }
  return measurementSince(started, latencies, failures, bytes);
}

/** Resolves to the output bytes received before the exit marker and the empty binary end frame. */
function execSession(target: Target, bytes: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`${target.url.replace(/^http/, 'ws')}/apps/bench/processes/web-1/exec?bytes=${bytes}`, {
      ...CLIENT_SOCKET_OPTIONS,
      headers: { authorization: target.authorization, command: 'stream', tty: 'false' },
    });
    let received = 0;
    let exited = false;
    socket.on('message', (data: Buffer, isBinary: boolean) => {
      if (isBinary && data.length === 0) {
        socket.close(1000);
        if (exited) resolve(received);
        else reject(new Error('end frame without an exit marker'));
        return;
      }
      if (!isBinary && data.length === EXIT_MARKER.length && data.toString('utf8') === EXIT_MARKER) exited = true;
      else received += data.length;
    });
    socket.on('error', reject);
    socket.on('close', () => reject(new Error('closed before the end frame')));
  });
}

/** Held websocket log streams: how fast they open, and what holding them costs the system under test. */
export interface HeldStreams {
  readonly opened: Measurement;
  /** Resolves once every stream is closed again. */
  close(): Promise<void>;
}

/**
 * Opens `count` log streams (`opening` handshakes in flight at a time) and leaves them open. A stream
 * counts as open once its first log line has come back through the proxy.
 */
export async function openLogStreams(target: Target, count: number, opening: number): Promise<HeldStreams> {
  const latencies = new LatencyRecorder();
  const sockets: WebSocket[] = [];
  let failures = 0;
  let next = 0;
  const started = performance.now();
  const openOne = async (): Promise<void> => {
    while (next < count) {
      next += 1;
      const openStarted = performance.now();
      try {
        sockets.push(await openLogStream(target));
        latencies.record(performance.now() - openStarted);
      } catch {
        failures += 1;
      }
    }
  };
  await Promise.all(Array.from({ length: opening }, openOne));
  return {
    opened: measurementSince(started, latencies, failures, 0),
    close: () => closeAll(sockets),
  };
}

function openLogStream(target: Target): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`${target.url.replace(/^http/, 'ws')}/apps/bench/logs?follow=true`, {
      ...CLIENT_SOCKET_OPTIONS,
      headers: { authorization: target.authorization },
      handshakeTimeout: 30_000,
    });
    socket.once('message', () => resolve(socket));
    socket.once('error', reject);
    socket.once('close', () => reject(new Error('closed before the first log line')));
  });
}

async function closeAll(sockets: readonly WebSocket[]): Promise<void> {
  await Promise.all(
    sockets.map(
      (socket) =>
        new Promise<void>((resolve) => {
          if (socket.readyState === WebSocket.CLOSED) {
            resolve();
            return;
          }
          const timer = setTimeout(() => socket.terminate(), 5_000);
          socket.once('close', () => {
            clearTimeout(timer);
            resolve();
          });
          socket.close(1000);
        }),
    ),
  );
}

/** Operations completed since `started`, each of which carried `bytesEach` of payload. */
function measurementSince(started: number, latencies: LatencyRecorder, failures: number, bytesEach: number): Measurement {
  const seconds = (performance.now() - started) / 1000;
  return {
    perSecond: latencies.count / seconds,
    latencyMs: latencies.percentiles(),
    mibPerSecond: (latencies.count * bytesEach) / MIB / seconds,
    failures,
    samples: latencies.count,
    seconds,
  };
}

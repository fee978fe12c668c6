import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { performance } from 'node:perf_hooks';
import type { Principal } from '../auth/principal';
import type { AllowedRackRequest } from '../rbac/rack-authorizer.service';
import { WebsocketFrameCursor, closeFrame, rackErrorFrames } from './rack-websocket-frames';

/** How one forwarded exchange with the rack ended: what the audit trail and metrics read. */
export interface RackExchangeOutcome {
  readonly transport: 'http' | 'websocket';
  /** The client's request, for who and from where; read it while handling the outcome, never keep it. */
  readonly request: IncomingMessage;
  readonly principal: Principal;
  /** The HTTP method, or `SOCKET` for a websocket. */
  readonly method: string;
  /** The decoded path the rack routed. */
  readonly path: string;
  readonly decision: AllowedRackRequest;
  /** The status the client got: the rack's, or the gateway's own (502, 101 for an accepted websocket). */
  readonly status: number;
  /** Body bytes from the client (HTTP), or every byte after the handshake (websockets). */
  readonly bytesIn: number;
  /** Body bytes to the client (HTTP), or every byte after the handshake (websockets). */
  readonly bytesOut: number;
  readonly durationMs: number;
  /** False when either end went away before the exchange finished. */
  readonly completed: boolean;
  /** Why the gateway cut the exchange short (access revoked, shutdown), if it did. */
  readonly cutBecause?: string;
  /** Websockets: the close code of the first close frame either side sent. */
  readonly closeCode?: number;
  /** Exec and shell sessions: the exit code the rack reported. */
  readonly exitCode?: number;
  /** Routes that create builds or releases: the ids the rack answered (a build's, and its release's when it has one). */
  readonly createdIds?: readonly string[];
}

/**
 * A websocket session's last frames, once cut: the client is given the frame it is in the middle of,
 * for at most this long, before the gateway's own frames follow.
 */
const FRAME_DRAIN_MS = 1_000;
/** After the gateway or the rack ends a session, the client has this long to take what is queued. */
const SOCKET_LINGER_MS = 5_000;

/** A forwarded exchange still in progress, as the registry of live exchanges sees it. */
export abstract class RackExchange {
  protected readonly startedAt = performance.now();
  protected cutBecause: string | undefined;

  constructor(
    readonly principal: Principal,
    readonly decision: AllowedRackRequest,
    /** The client's Authorization header, kept in memory only, to re-check the credential when access changes. */
    readonly credential: string | undefined,
  ) {}

  /** Ends the exchange early, telling the client why where its protocol allows. */
  /** Ends the exchange, telling the client why where it can; websockets close with `closeCode` (1008: refused). */
  abstract cut(reason: string, closeCode?: number): void;
}

export class HttpExchange extends RackExchange {
  bytesIn = 0;
  bytesOut = 0;
  createdIds: readonly string[] | undefined;

  constructor(
    principal: Principal,
    decision: AllowedRackRequest,
    credential: string | undefined,
    private readonly response: ServerResponse,
  ) {
    super(principal, decision, credential);
  }

  /** Counts the request body as it streams to the rack. */
  countRequestBody(request: IncomingMessage): void {
    request.on('data', (chunk: Buffer) => (this.bytesIn += chunk.length));
  }

  /** Counts an answer streamed through from the rack. */
  countAnswer(answer: IncomingMessage): void {
    answer.on('data', (chunk: Buffer) => (this.bytesOut += chunk.length));
  }

  cut(reason: string): void {
    this.cutBecause = reason;
    // Mid-answer there is no way to say why; the rack leg closes with the client's.
    this.response.destroy();
  }

  outcome(request: IncomingMessage): RackExchangeOutcome {
    return {
      transport: 'http',
      request,
      principal: this.principal,
      method: request.method ?? 'GET',
      path: this.decision.target.path,
      decision: this.decision,
      status: this.response.statusCode,
      bytesIn: this.bytesIn,
      bytesOut: this.bytesOut,
      durationMs: performance.now() - this.startedAt,
      completed: this.response.writableFinished,
      ...(this.cutBecause ? { cutBecause: this.cutBecause } : {}),
      ...(this.createdIds ? { createdIds: this.createdIds } : {}),
    };
  }

  /** The outcome the exchange has once the client takes the last bytes of its answer, which wait for it. */
  answeredOutcome(request: IncomingMessage, status: number): RackExchangeOutcome {
    return { ...this.outcome(request), status, completed: true };
  }
}

export class WebsocketExchange extends RackExchange {
  private readonly fromRack = new WebsocketFrameCursor();
  private readonly fromClient = new WebsocketFrameCursor();
  private rackSocket: Duplex | undefined;
  private status = 0;
  private readAtUpgrade = 0;
  private writtenAtUpgrade = 0;
  private draining: (() => void) | undefined;

  constructor(
    principal: Principal,
    decision: AllowedRackRequest,
    credential: string | undefined,
    private readonly socket: Duplex,
  ) {
    super(principal, decision, credential);
  }

  /** The rack answered the handshake with something other than 101: its answer is relayed, then the socket closed. */
  refusedByRack(answer: IncomingMessage): void {
    this.status = answer.statusCode ?? 0;
    answer.once('end', () => destroyWhenFlushed(this.socket));
  }

  /** The rack accepted: close each end when the other closes. */
  upgraded(rackSocket: Duplex): void {
    this.status = 101;
    this.rackSocket = rackSocket;
    const socket = this.socket as Socket;
    this.readAtUpgrade = socket.bytesRead ?? 0;
    this.writtenAtUpgrade = socket.bytesWritten ?? 0;
    rackSocket.once('close', () => {
      if (this.draining) return;
      if (!this.socket.writableEnded) this.socket.end();
      destroyWhenFlushed(this.socket);
    });
    this.socket.once('close', () => rackSocket.destroy());
  }

  /**
   * Follows both directions frame by frame alongside http-proxy's pipes. Only once they are set up: a
   * 'data' listener added earlier would set the socket flowing, and the bytes http-proxy puts back
   * (`unshift`) would be emitted to it alone, never reaching the other end.
   */
  follow(rackSocket: Duplex): void {
    rackSocket.on('data', (chunk: Buffer) => (this.draining ? this.drain(chunk) : this.fromRack.feed(chunk)));
    this.socket.on('data', (chunk: Buffer) => this.fromClient.feed(chunk));
  }

  /**
   * Stops the session and tells the client why the way the rack would (`ERROR:` frame, exit code 1 on
   * exec, end of stream), after letting the frame it is receiving finish so the stream stays well formed.
   */
  cut(reason: string, closeCode = 1008): void {
    if (this.cutBecause !== undefined) return;
    this.cutBecause = reason;
    const rackSocket = this.rackSocket;
    if (!rackSocket) {
      this.socket.destroy();
      return;
    }
    this.socket.unpipe(rackSocket);
    rackSocket.unpipe(this.socket);
    const finish = () => {
      this.draining = undefined;
      clearTimeout(giveUp);
      rackSocket.destroy();
      for (const frame of rackErrorFrames(reason, this.decision.target.path)) this.socket.write(frame);
      this.socket.end(closeFrame(closeCode));
      destroyWhenFlushed(this.socket);
    };
    const giveUp = setTimeout(() => {
      rackSocket.destroy();
      this.socket.destroy();
    }, FRAME_DRAIN_MS).unref();
    if (this.fromRack.atFrameBoundary) {
      finish();
      return;
    }
    this.draining = finish;
    // Unpiped (or paused by the client's backpressure), the rack socket would stop before the frame ends.
    rackSocket.resume();
  }

  outcome(request: IncomingMessage): RackExchangeOutcome {
    const socket = this.socket as Socket;
    return {
      transport: 'websocket',
      request,
      principal: this.principal,
      method: 'SOCKET',
      path: this.decision.target.path,
      decision: this.decision,
      status: this.status,
      bytesIn: this.status === 101 ? (socket.bytesRead ?? 0) - this.readAtUpgrade : 0,
      bytesOut: this.status === 101 ? (socket.bytesWritten ?? 0) - this.writtenAtUpgrade : 0,
      durationMs: performance.now() - this.startedAt,
      completed: this.cutBecause === undefined && this.status === 101,
      ...(this.cutBecause ? { cutBecause: this.cutBecause } : {}),
      ...((this.fromClient.closeCode ?? this.fromRack.closeCode)
        ? { closeCode: this.fromClient.closeCode ?? this.fromRack.closeCode }
        : {}),
      ...(this.fromRack.exitCode !== undefined ? { exitCode: this.fromRack.exitCode } : {}),
    };
  }

  /** Passes the rest of the frame the client is in the middle of, then finishes the cut. */
  private drain(chunk: Buffer): void {
    const taken = this.fromRack.feedToBoundary(chunk);
    this.socket.write(chunk.subarray(0, taken));
    if (this.fromRack.atFrameBoundary) this.draining?.();
  }
}

/** Destroys a client socket once what is queued on it has been flushed, or after a grace period. */
export function destroyWhenFlushed(socket: Duplex): void {
  if (socket.destroyed) return;
  if (socket.writableFinished) {
    socket.destroy();
    return;
  }
  const linger = setTimeout(() => socket.destroy(), SOCKET_LINGER_MS).unref();
  socket.once('finish', () => {
    clearTimeout(linger);
    socket.destroy();
  });
}

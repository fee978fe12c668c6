/**
 * The rack's websocket conventions (convox-api.md §2), and a cursor that follows the frames of a piped
 * websocket without copying payloads: the gateway needs to know where frames end (to add its own frames
 * to a live session), the close code, and an exec session's exit code.
 */

/** The marker after which the convox CLI reads an exec or shell session's exit code. */
export const EXIT_MARKER = 'F1E49A85-0AD7-4AEF-A618-C249C6E6568D';
const EXIT_CODE = new RegExp(`^${EXIT_MARKER}:(\\d+)`);
const EXITING_ROUTE = /^\/(?:apps\/[^/]+\/processes\/[^/]+\/exec|instances\/[^/]+\/shell)$/;

const OPCODE_TEXT = 0x1;
const OPCODE_BINARY = 0x2;
const OPCODE_CLOSE = 0x8;
/** Text frames longer than this are session output, never an exit marker: not captured. */
const MAX_CAPTURED_TEXT = 64;

/** Whether a session on this (decoded) path ends with an exit code the CLI exits with. */
export function reportsExitCode(path: string): boolean {
  return EXITING_ROUTE.test(path);
}

/**
 * How the rack ends a session it refuses or fails (pkg/api websocket handlers): `ERROR: <reason>` as a
 * text frame, an exit code on exec and shell (so the CLI exits non-zero), then the empty binary frame
 * the CLI reads as end of stream. Frames a server sends are unmasked.
 */
export function rackErrorFrames(reason: string, path: string): Buffer[] {
  const frames = [serverFrame(OPCODE_TEXT, Buffer.from(`ERROR: ${reason}\n`))];
  if (reportsExitCode(path)) frames.push(serverFrame(OPCODE_TEXT, Buffer.from(`${EXIT_MARKER}:1\n`)));
  frames.push(serverFrame(OPCODE_BINARY, Buffer.alloc(0)));
  return frames;
}

/** A close frame with a status code (RFC 6455 §5.5.1). */
export function closeFrame(code: number): Buffer {
  const payload = Buffer.alloc(2);
  payload.writeUInt16BE(code);
  return serverFrame(OPCODE_CLOSE, payload);
}

function serverFrame(opcode: number, payload: Buffer): Buffer {
  const length = payload.length;
  const header = length < 126 ? Buffer.from([0x80 | opcode, length]) : Buffer.from([0x80 | opcode, 126, length >> 8, length & 0xff]);
  return Buffer.concat([header, payload]);
}

/** Follows one direction of a websocket stream frame by frame, chunk by chunk. */
export class WebsocketFrameCursor {
  /** The close code of the first close frame seen (1005 when it carried none). */
  closeCode: number | undefined;
  /** The exit code from the rack's exit marker, on exec and shell sessions. */
  exitCode: number | undefined;

  private readonly header = Buffer.alloc(14);
  private headerLength = 0;
  private headerNeeded = 2;
  private payloadRemaining = 0;
  private opcode = 0;
  private mask: Buffer | undefined;
  private captured: Buffer[] | undefined;
  private capturedLength = 0;

  /** True between frames: bytes written after this point start a frame of their own. */
  get atFrameBoundary(): boolean {
    return this.headerLength === 0 && this.payloadRemaining === 0;
  }

  /** Feeds the bytes of `chunk` that finish the current frame, and says how many that was. */
  feedToBoundary(chunk: Buffer): number {
    let taken = 0;
    while (taken < chunk.length && !this.atFrameBoundary) {
      // Inside a header its length is not known yet: a byte at a time until it is.
      const step = this.payloadRemaining > 0 ? Math.min(this.payloadRemaining, chunk.length - taken) : 1;
      this.feed(chunk.subarray(taken, taken + step));
      taken += step;
    }
    return taken;
  }

  feed(chunk: Buffer): void {
    let offset = 0;
    while (offset < chunk.length) {
      if (this.payloadRemaining === 0 && this.headerLength < this.headerNeeded) {
        offset = this.readHeader(chunk, offset);
        continue;
      }
      const take = Math.min(this.payloadRemaining, chunk.length - offset);
      if (this.captured) this.capture(chunk.subarray(offset, offset + take));
      offset += take;
      this.payloadRemaining -= take;
      if (this.payloadRemaining === 0) this.endFrame();
    }
  }

  private readHeader(chunk: Buffer, offset: number): number {
    let cursor = offset;
    while (this.headerLength < this.headerNeeded && cursor < chunk.length) {
      this.header[this.headerLength++] = chunk[cursor++];
      if (this.headerLength === 2) {
        const length7 = this.header[1] & 0x7f;
        const masked = (this.header[1] & 0x80) !== 0;
        this.headerNeeded = 2 + (length7 === 126 ? 2 : length7 === 127 ? 8 : 0) + (masked ? 4 : 0);
      }
    }
    if (this.headerLength === this.headerNeeded) this.startFrame();
    return cursor;
  }

  private startFrame(): void {
    this.opcode = this.header[0] & 0x0f;
    const length7 = this.header[1] & 0x7f;
    const extended = length7 === 126 ? 2 : length7 === 127 ? 8 : 0;
    const length = length7 === 126 ? this.header.readUInt16BE(2) : length7 === 127 ? Number(this.header.readBigUInt64BE(2)) : length7;
    this.mask = (this.header[1] & 0x80) !== 0 ? Buffer.from(this.header.subarray(2 + extended, 6 + extended)) : undefined;
    const wanted = this.opcode === OPCODE_CLOSE || (this.opcode === OPCODE_TEXT && length <= MAX_CAPTURED_TEXT);
    this.captured = wanted ? [] : undefined;
    this.capturedLength = 0;
    this.payloadRemaining = length;
    if (length === 0) this.endFrame();
  }

  private capture(bytes: Buffer): void {
    const copy = Buffer.from(bytes);
    if (this.mask) for (let index = 0; index < copy.length; index += 1) copy[index] ^= this.mask[(this.capturedLength + index) % 4];
    this.captured?.push(copy);
    this.capturedLength += copy.length;
  }

  private endFrame(): void {
    if (this.captured) {
      const payload = Buffer.concat(this.captured);
      if (this.opcode === OPCODE_CLOSE) this.closeCode ??= payload.length >= 2 ? payload.readUInt16BE(0) : 1005;
      else {
        const exit = EXIT_CODE.exec(payload.toString('latin1'));
        if (exit) this.exitCode = Number(exit[1]);
      }
    }
    this.captured = undefined;
    this.headerLength = 0;
    this.headerNeeded = 2;
  }
}

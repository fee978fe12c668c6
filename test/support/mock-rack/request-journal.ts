import { createHash, type Hash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/**
 * What the rack actually received, request by request, so gateway tests can assert what was forwarded,
 * stripped or rewritten. Bodies are hashed while they stream; only small ones are kept for form parsing.
 */

/** Bodies up to this size are retained (form parsing, small objects); larger ones keep only size and hash. */
export const BODY_RETENTION_LIMIT = 1024 * 1024;

const MAX_RECORDED_FRAMES = 1000;

export interface JournalFrame {
  /** Opcode as received: text frames carry data, an empty binary frame is the EOF marker. */
  binary: boolean;
  size: number;
}

export interface JournalEntry {
  /** 1-based arrival order. */
  seq: number;
  receivedAt: string;
  /** The HTTP method, or `SOCKET` for a websocket upgrade. */
  method: string;
  /** The request path exactly as received: undecoded, uncleaned, without the query. */
  path: string;
  /** The raw query string without `?` (the CLI always sends `?`, often with nothing after it). */
  query: string;
  /** Header names lower-cased; repeated headers joined with `, `. */
  headers: Record<string, string>;
  /** The matched route, e.g. `POST /apps/{app}/objects/{key:.*}`; null for unknown routes and `/check`. */
  route: string | null;
  /** null when the route does not authenticate (`/check`, unknown routes, faults answered early). */
  authenticated: boolean | null;
  /** The audit actor the rack derived (Convox-Actor, X-Convox-Actor, else `rack-password`). */
  actor: string | null;
  /** Request body bytes, or for websockets the payload bytes of every frame the client sent. */
  bodySize: number;
  bodySha256: string;
  /** False while the body is still arriving (or if the client aborted it). */
  bodyComplete: boolean;
  /** Parsed `application/x-www-form-urlencoded` fields of a retained body, on any method. */
  form: Record<string, string[]> | null;
  /** Status sent: 101 for an accepted upgrade; null while pending or when the connection was dropped. */
  status: number | null;
  /** Websockets only: the frames received from the client, in order (capped). */
  frames?: JournalFrame[];
}

/** A journal entry plus the live hash and retained bytes behind it. */
export class JournalRecord {
  private readonly hash: Hash = createHash('sha256');
  private retained: Buffer[] | null = [];

  constructor(readonly entry: JournalEntry) {}

  /** Feeds request bytes (or websocket payloads) through the hash as they arrive. */
  append(chunk: Buffer): void {
    this.hash.update(chunk);
    this.entry.bodySize += chunk.length;
    if (this.retained && this.entry.bodySize <= BODY_RETENTION_LIMIT) this.retained.push(chunk);
    else this.retained = null;
  }

  recordFrame(payload: Buffer, binary: boolean): void {
    this.append(payload);
    const frames = (this.entry.frames ??= []);
    if (frames.length < MAX_RECORDED_FRAMES) frames.push({ binary, size: payload.length });
  }

  /** Marks the body complete and, for a retained form body, records its fields (on any method). */
  complete(contentType: string | undefined): void {
    this.entry.bodyComplete = true;
    const body = this.retainedBody();
    if (body && isFormBody(contentType)) this.entry.form = parseFormFields(body);
  }

  /** The body, if it stayed under the retention limit. */
  retainedBody(): Buffer | null {
    return this.retained ? Buffer.concat(this.retained) : null;
  }

  /** Digest of what arrived so far; the live hash keeps going. */
  sha256(): string {
    return this.hash.copy().digest('hex');
  }

  view(): JournalEntry {
    return structuredClone({ ...this.entry, bodySha256: this.sha256() });
  }
}

export class RequestJournal {
  private records: JournalRecord[] = [];
  private seq = 0;

  open(method: string, request: IncomingMessage): JournalRecord {
    const rawUrl = request.url ?? '/';
    const queryStart = rawUrl.indexOf('?');
    const record = new JournalRecord({
      seq: ++this.seq,
      receivedAt: new Date().toISOString(),
      method,
      path: queryStart < 0 ? rawUrl : rawUrl.slice(0, queryStart),
      query: queryStart < 0 ? '' : rawUrl.slice(queryStart + 1),
      headers: rawHeaderMap(request.rawHeaders),
      route: null,
      authenticated: null,
      actor: null,
      bodySize: 0,
      bodySha256: '',
      bodyComplete: false,
      form: null,
      status: null,
    });
    this.records.push(record);
    return record;
  }

  entries(): JournalEntry[] {
    return this.records.map((record) => record.view());
  }

  clear(): void {
    this.records = [];
    this.seq = 0;
  }
}

function rawHeaderMap(rawHeaders: string[]): Record<string, string> {
  const headers = new Map<string, string>();
  for (let index = 0; index + 1 < rawHeaders.length; index += 2) {
    const name = rawHeaders[index].toLowerCase();
    const previous = headers.get(name);
    headers.set(name, previous === undefined ? rawHeaders[index + 1] : `${previous}, ${rawHeaders[index + 1]}`);
  }
  return Object.fromEntries(headers);
}

/** Drains a request body through the journal record; resolves when it ends, rejects if the client aborts. */
export function captureRequestBody(request: IncomingMessage, record: JournalRecord): Promise<void> {
  return new Promise((resolve, reject) => {
    request.on('data', (chunk: Buffer) => record.append(chunk));
    request.once('end', () => {
      record.complete(request.headers['content-type']);
      resolve();
    });
    request.once('error', reject);
    request.once('close', () => {
      if (!record.entry.bodyComplete) reject(new Error('request body aborted'));
    });
  });
}

export function isFormBody(contentType: string | undefined): boolean {
  return (contentType ?? '').split(';', 1)[0].trim().toLowerCase() === 'application/x-www-form-urlencoded';
}

export function parseFormFields(body: Buffer): Record<string, string[]> {
  const fields = new Map<string, string[]>();
  for (const [key, value] of new URLSearchParams(body.toString('utf8'))) fields.set(key, [...(fields.get(key) ?? []), value]);
  return Object.fromEntries(fields);
}

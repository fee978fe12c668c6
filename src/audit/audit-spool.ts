import { Logger } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { access, appendFile, constants, mkdir, open, readdir, rename, stat, unlink, utimes } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { AUDIT_RECORD_FIELDS, type AuditRecord } from './audit-record';

/** A spool of another host untouched this long is taken for abandoned: its owner touches it meanwhile. */
export const ABANDONED_AFTER_MS = 60_000;

/** `<host>.<pid>.<instance>.<n>.jsonl`: whose it is (host names may hold dots, the rest cannot) and its place. */
const FILE_NAME = /^(.+)\.(\d+)\.([0-9a-f]{12})\.(\d+)\.jsonl$/;

interface Owner {
  readonly host: string;
  readonly pid: number;
  readonly instance: string;
}

interface SpoolFile {
  readonly path: string;
  events: number;
}

/**
 * Events the database could not take, on local disk until it can: one JSON line each, unchained (they
 * are linked when they reach the chain), appended and fsync'd before anyone forgets them. A process
 * writes only files named for itself. Those of a process that is gone (killed, or stopped while the
 * database was down) are claimed by renaming them to the claimer's name: of two instances sharing the
 * directory only one rename succeeds, so only one replays a file.
 */
export class AuditSpool {
  private readonly logger = new Logger(AuditSpool.name);
  private readonly owner: Owner = { host: hostname(), pid: process.pid, instance: randomBytes(6).toString('hex') };
  private next = 0;
  /** Files this process owns, in the order they are replayed; appends go to the last one it created. */
  private readonly files: SpoolFile[] = [];
  private appendingTo: SpoolFile | undefined;

  constructor(private readonly directory: string) {}

  /** Events in the files this process owns. */
  get events(): number {
    return this.files.reduce((sum, file) => sum + file.events, 0);
  }

  get holdsEvents(): boolean {
    return this.files.length > 0;
  }

  /** Makes the directory; throws when this process could not write to it. */
  async open(): Promise<void> {
    // Events name people and addresses: the gateway's user alone reads them.
    await mkdir(this.directory, { recursive: true, mode: 0o700 });
    await access(this.directory, constants.W_OK);
  }

  /** Appends the records and returns once they are on disk. */
  async append(records: readonly AuditRecord[]): Promise<void> {
    if (records.length === 0) return;
    const lines = records.map((record) => `${JSON.stringify(record)}\n`).join('');
    const file = this.appendingTo ?? { path: this.nextPath(), events: 0 };
    try {
      await appendFile(file.path, lines, { flush: true, mode: 0o600 });
      // A new file's name must survive a crash as well as its content.
      if (file !== this.appendingTo) await syncDirectory(this.directory);
    } catch (error) {
      // A write cut short (a full disk) may leave a torn last line: the retry goes to a new file. A
      // new file left here with some lines is claimed after this process, like any other.
      this.appendingTo = undefined;
      throw error;
    }
    if (file !== this.appendingTo) {
      this.appendingTo = file;
      this.files.push(file);
    }
    file.events += records.length;
  }

  /** The files to replay, oldest first; a file stays until `remove`, however much of it was replayed. */
  replayOrder(): readonly SpoolFile[] {
    return [...this.files];
  }

  /** A file's records, `size` at a time; a line that does not parse (a write cut short) is reported and skipped. */
  async *read(file: SpoolFile, size: number): AsyncGenerator<AuditRecord[]> {
    const input = createReadStream(file.path);
    const opened = await new Promise<boolean>((resolve, reject) => {
      input.once('open', () => resolve(true));
      input.once('error', (error: NodeJS.ErrnoException) => (error.code === 'ENOENT' ? resolve(false) : reject(error)));
    });
    if (!opened) {
      this.logger.error(`${file.path} is gone: its ${file.events} audit events cannot be replayed`);
      return;
    }
    const lines = createInterface({ input, crlfDelay: Infinity });
    let batch: AuditRecord[] = [];
    let lineNumber = 0;
    for await (const line of lines) {
      lineNumber += 1;
      if (line === '') continue;
      const record = parseSpooledRecord(line);
      if (!record) {
        this.logger.error(`${file.path}:${lineNumber} is not an audit event and is skipped: ${line.slice(0, 200)}`);
        continue;
      }
      batch.push(record);
      if (batch.length >= size) {
        yield batch;
        batch = [];
      }
    }
    if (batch.length > 0) yield batch;
  }

  /** Once everything in it is in the chain. */
  async remove(file: SpoolFile): Promise<void> {
    await unlink(file.path).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error;
    });
    this.files.splice(this.files.indexOf(file), 1);
    if (this.appendingTo === file) this.appendingTo = undefined;
  }

  /**
   * Takes the files of processes that are gone, to replay them with this one's; returns how many
   * events they hold. Touches this process's own files on the way, so nobody takes them for abandoned.
   */
  async claimAbandoned(): Promise<number> {
    const now = new Date();
    await Promise.all(this.files.map((file) => utimes(file.path, now, now).catch(() => undefined)));
    let claimed = 0;
    for (const name of await readdir(this.directory)) {
      const match = FILE_NAME.exec(name);
      if (!match) continue;
      const owner = { host: match[1], pid: Number(match[2]), instance: match[3] };
      const path = join(this.directory, name);
      if (isSameOwner(owner, this.owner) || !(await this.isAbandoned(owner, path))) continue;
      const file = { path: this.nextPath(), events: 0 };
      try {
        await rename(path, file.path);
      } catch (error) {
        // Another instance claimed it first.
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw error;
      }
      file.events = await countLines(file.path);
      this.logger.warn(`Replaying ${file.events} audit events a stopped process left in ${name}`);
      // Before the file this process appends to, so its own events keep their order.
      const appending = this.appendingTo ? this.files.indexOf(this.appendingTo) : -1;
      this.files.splice(appending === -1 ? this.files.length : appending, 0, file);
      claimed += file.events;
    }
    return claimed;
  }

  private async isAbandoned(owner: Owner, path: string): Promise<boolean> {
    if (owner.host === this.owner.host) {
      // One trail per process and directory: this pid's file of another instance is a previous
      // process's (a container's first process has the same pid after every restart).
      if (owner.pid === this.owner.pid || !isRunning(owner.pid)) return true;
    }
    // Another host's process (or a pid reused since) cannot be asked; a live owner keeps its files fresh.
    const modified = await stat(path).then(
      ({ mtimeMs }) => mtimeMs,
      () => undefined,
    );
    return modified !== undefined && Date.now() - modified > ABANDONED_AFTER_MS;
  }

  private nextPath(): string {
    const { host, pid, instance } = this.owner;
    this.next += 1;
    return join(this.directory, `${host}.${pid}.${instance}.${this.next}.jsonl`);
  }
}

function isSameOwner(a: Owner, b: Owner): boolean {
  return a.host === b.host && a.pid === b.pid && a.instance === b.instance;
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function syncDirectory(directory: string): Promise<void> {
  const handle = await open(directory, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function countLines(path: string): Promise<number> {
  let lines = 0;
  for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
    for (let at = chunk.indexOf(10); at !== -1; at = chunk.indexOf(10, at + 1)) lines += 1;
  }
  return lines;
}

const FIELD_TYPES: Record<string, 'string' | 'number' | 'object'> = {
  uuid: 'string',
  varchar: 'string',
  text: 'string',
  timestamptz: 'string',
  integer: 'number',
  bigint: 'number',
  jsonb: 'object',
};
const REQUIRED_FIELDS = new Set(['id', 'occurredAt', 'kind', 'decision', 'details']);

/** A spooled line back to the record it was, or undefined when it is not one. */
export function parseSpooledRecord(line: string): AuditRecord | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const fields = value as Record<string, unknown>;
  for (const { field, type } of AUDIT_RECORD_FIELDS) {
    const content = fields[field];
    if (content === null && !REQUIRED_FIELDS.has(field)) continue;
    if (typeof content !== FIELD_TYPES[type] || content === null) return undefined;
  }
  const occurredAt = new Date(fields.occurredAt as string);
  if (Number.isNaN(occurredAt.getTime()) || (fields.decision !== 'allowed' && fields.decision !== 'denied')) return undefined;
  const record = Object.fromEntries(AUDIT_RECORD_FIELDS.map(({ field }) => [field, fields[field]]));
  return { ...record, occurredAt } as unknown as AuditRecord;
}

import { stringify } from 'csv-stringify';
import { Readable, pipeline } from 'node:stream';
import type { AuditEventEntity } from './audit-event.entity';
import { AUDIT_RECORD_FIELDS } from './audit-record';
import { type AuditVerification, walkPage } from './audit-verifier.service';
import { ChainWalk } from './chain-walk';
import { AuditEventResponseDto } from './dto/audit-event-response.dto';

const CSV_COLUMNS: ReadonlyArray<keyof AuditEventResponseDto> = [
  'seq',
  ...AUDIT_RECORD_FIELDS.map(({ field }) => field),
  'prevHash',
  'hash',
];

/**
 * Lines are sent in chunks of about this size: a write per line made 100,000 chunks of an export of
 * 100,000 events, and a client reading it with fetch took minutes (seconds with these).
 */
const JSON_LINES_CHUNK_BYTES = 64 * 1024;

/** One JSON object a line: the events exactly as the API shows them, links included, so the file verifies. */
export function jsonLines(events: AsyncIterable<AuditEventEntity>): Readable {
  return Readable.from(
    (async function* () {
      let chunk = '';
      for await (const event of events) {
        chunk += `${JSON.stringify(AuditEventResponseDto.from(event))}\n`;
        if (chunk.length < JSON_LINES_CHUNK_BYTES) continue;
        yield chunk;
        chunk = '';
      }
      if (chunk) yield chunk;
    })(),
  );
}

/** The same as CSV (RFC 4180, by csv-stringify), `details` as a JSON cell, for spreadsheets. */
export function csvRows(events: AsyncIterable<AuditEventEntity>): Readable {
  const rows = Readable.from(
    (async function* () {
      for await (const event of events) {
        const row = AuditEventResponseDto.from(event);
        yield CSV_COLUMNS.map((column) => (column === 'details' ? JSON.stringify(row.details) : row[column]));
      }
    })(),
  );
  const csv = stringify({ header: true, columns: CSV_COLUMNS.map((column) => String(column)) });
  // A failure reading the events ends the file with an error, never with a quietly short export.
  pipeline(rows, csv, () => undefined);
  return csv;
}

/**
 * Verifies an exported JSON-lines file with the chain's key: every event must follow the one before
 * it, from the file's first event (the anchor) on. Reads line by line, so a file of any size fits.
 */
export async function verifyExportedLines(lines: AsyncIterable<string>, key: Buffer): Promise<AuditVerification> {
  const walk = new ChainWalk(key, 'first-event');
  for await (const line of lines) {
    if (!line.trim()) continue;
    const exported = JSON.parse(line) as AuditEventResponseDto;
    const verdict = walkPage(walk, [
      {
        ...exported,
        occurredAt: new Date(exported.occurredAt),
        prevHash: Buffer.from(exported.prevHash, 'hex'),
        hash: Buffer.from(exported.hash, 'hex'),
      },
    ]);
    if (verdict) return verdict;
  }
  return { intact: true, events: walk.events, headHash: walk.lastHash?.toString('hex') ?? '' };
}

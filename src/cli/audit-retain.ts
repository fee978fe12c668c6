import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { hostname, userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import { AuditRetention } from '../audit/audit-retention.service';
import { loadGatewayConfig } from '../config/gateway-config';
import { CliModule } from './cli.module';

const USAGE = 'usage: npm run audit:retain -- --archive FILE.jsonl [--before 2026-01-01T00:00:00Z | --before 90d]\n';
const DAY_MS = 86_400_000;

/**
 * `npm run audit:retain -- --archive old-events.jsonl [--before DATE|Nd]`: archives the events older
 * than `--before` (AUDIT_RETENTION_DAYS by default) to a new JSON-lines file, the export's format,
 * then removes them and records an `audit.retention` event; the chain then verifies from its anchor,
 * and the archive with `audit:verify -- --file`. An operator or a scheduled job runs it; the gateway
 * never does by itself. Exits 0 when done (or nothing was old enough), 2 on error, nothing removed.
 */
async function main(): Promise<number> {
  const { values } = parseArgs({ options: { before: { type: 'string' }, archive: { type: 'string' } } });
  const config = loadGatewayConfig();
  const before = cutoff(values.before, config.audit.retentionDays);
  if (!values.archive || !before) {
    process.stderr.write(`${USAGE}--before is needed unless AUDIT_RETENTION_DAYS is set\n`);
    return 2;
  }
  const app = await NestFactory.createApplicationContext(CliModule.forRoot(config), { logger: ['error', 'warn'] });
  try {
    const outcome = await app.get(AuditRetention).retain({ before, archivePath: values.archive, operator: operator() });
    if (!outcome) {
      process.stdout.write(`nothing to remove: no event before ${before.toISOString()} that the chain allows removing\n`);
      return 0;
    }
    process.stdout.write(
      `removed events ${outcome.fromSeq} to ${outcome.toSeq} (${outcome.removed}), archived to ${values.archive} ` +
        `(sha256 ${outcome.archiveSha256}); the chain now starts after event ${outcome.anchor.seq}, ` +
        `and event ${outcome.eventSeq} records this retention\n`,
    );
    return 0;
  } finally {
    await app.close();
  }
}

/** An ISO 8601 instant, or a number of days (`90`, `90d`) before now; undefined when neither is given. */
function cutoff(before: string | undefined, defaultDays: number | undefined): Date | undefined {
  if (before === undefined) return defaultDays === undefined ? undefined : new Date(Date.now() - defaultDays * DAY_MS);
  const days = /^(\d+)\s*d?(ays?)?$/i.exec(before.trim());
  const date = days ? new Date(Date.now() - Number(days[1]) * DAY_MS) : new Date(before);
  if (Number.isNaN(date.getTime()) || (!days && !/^\d{4}-\d\d-\d\d/.test(before)))
    throw new Error(`--before: not a date or a number of days: ${before}`);
  if (date.getTime() > Date.now()) throw new Error(`--before: ${before} is in the future`);
  return date;
}

/** Who ran the command, for the record: the account and host it ran on. */
function operator(): string {
  try {
    return `${userInfo().username}@${hostname()}`;
  } catch {
    return `uid ${process.getuid?.() ?? 'unknown'}@${hostname()}`;
  }
}

main().then(
  (code) => process.exit(code),
  (error: Error) => {
    process.stderr.write(`${error.message}\n`);
    process.exit(2);
  },
);

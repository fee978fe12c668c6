import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { verifyExportedLines } from '../audit/audit-export';
import { deriveAuditKey } from '../audit/audit-key';
import { type AuditVerification, AuditVerifier } from '../audit/audit-verifier.service';
import { loadGatewayConfig } from '../config/gateway-config';
import { CliModule } from './cli.module';

/**
 * `npm run audit:verify`: recomputes every link of the audit chain in the gateway's database and
 * says whether it holds, from the retention anchor when older events were archived (`audit:retain`).
 * `-- --file export.jsonl` checks an export (`GET /api/v1/audit/export`) or a retention archive
 * instead, with only AUDIT_HMAC_KEY or APP_SECRET_KEY set. Exits 0 when intact, 1 when a link is
 * broken (naming the first), 2 on error.
 */
async function main(): Promise<number> {
  const { values } = parseArgs({ options: { file: { type: 'string' } } });
  const result = values.file ? await verifyFile(values.file) : await verifyDatabase();
  const anchored = result.anchorSeq === undefined ? '' : ` after the retention anchor (event ${result.anchorSeq})`;
  if (result.intact) {
    process.stdout.write(`audit chain intact: ${result.events} events${anchored}, head ${result.headHash}\n`);
    return 0;
  }
  process.stdout.write(`audit chain BROKEN at event ${result.brokenAt}: ${result.problem}; every event before it holds\n`);
  return 1;
}

async function verifyDatabase(): Promise<AuditVerification> {
  const app = await NestFactory.createApplicationContext(CliModule.forRoot(loadGatewayConfig()), { logger: ['error', 'warn'] });
  try {
    return await app.get(AuditVerifier).verify();
  } finally {
    await app.close();
  }
}

function verifyFile(path: string): Promise<AuditVerification> {
  const secret = process.env.AUDIT_HMAC_KEY || process.env.APP_SECRET_KEY;
  if (!secret) throw new Error('set AUDIT_HMAC_KEY (or APP_SECRET_KEY, if the gateway has no AUDIT_HMAC_KEY): the chain is keyed by it');
  return verifyExportedLines(createInterface({ input: createReadStream(path), crlfDelay: Infinity }), deriveAuditKey(secret));
}

main().then(
  (code) => process.exit(code),
  (error: Error) => {
    process.stderr.write(`${error.message}\n`);
    process.exit(2);
  },
);

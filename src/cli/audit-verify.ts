import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { AuditVerifier } from '../audit/audit-verifier.service';
import { loadGatewayConfig } from '../config/gateway-config';
import { CliModule } from './cli.module';

/**
 * `npm run audit:verify`: recomputes every link of the audit chain with the gateway's key and says
 * whether it holds. Exits 0 when intact, 1 when a link is broken (naming the first), 2 on error.
 */
async function main(): Promise<number> {
  const app = await NestFactory.createApplicationContext(CliModule.forRoot(loadGatewayConfig()), { logger: ['error', 'warn'] });
  try {
    const result = await app.get(AuditVerifier).verify();
    if (result.intact) {
      process.stdout.write(`audit chain intact: ${result.events} events, head ${result.headHash}\n`);
      return 0;
    }
    process.stdout.write(`audit chain BROKEN at event ${result.brokenAt}: ${result.problem}; every event before it holds\n`);
    return 1;
  } finally {
    await app.close();
  }
}

main().then(
  (code) => process.exit(code),
  (error: Error) => {
    process.stderr.write(`${error.message}\n`);
    process.exit(2);
  },
);

import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { parseArgs } from 'node:util';
import { loadGatewayConfig } from '../config/gateway-config';
import { TokensService } from '../tokens/tokens.service';
import { UsersService } from '../users/users.service';
import { CliModule } from './cli.module';

/**
 * `npm run token:create -- --user EMAIL --name NAME [--expires ISO8601]`: a first CI token on a headless
 * install. Whoever can run this can already reach the database, so it grants nothing new.
 */
async function main(): Promise<void> {
  const { values } = parseArgs({ options: { user: { type: 'string' }, name: { type: 'string' }, expires: { type: 'string' } } });
  if (!values.user || !values.name) {
    process.stderr.write('usage: npm run token:create -- --user EMAIL --name NAME [--expires 2027-01-01T00:00:00Z]\n');
    process.exit(2);
  }
  const expiresAt = values.expires ? new Date(values.expires) : null;
  if (expiresAt && Number.isNaN(expiresAt.getTime())) {
    process.stderr.write(`--expires: not a date: ${values.expires}\n`);
    process.exit(2);
  }

  const app = await NestFactory.createApplicationContext(CliModule.forRoot(loadGatewayConfig()), { logger: ['error', 'warn'] });
  try {
    const user = await app.get(UsersService).findByEmail(values.user);
    if (!user) throw new Error(`no user ${values.user}: create it first (ADMIN_USERS or the users API)`);
    const { secret } = await app.get(TokensService).create(user, { name: values.name, expiresAt });
    process.stdout.write(`${secret}\n`);
  } finally {
    await app.close();
  }
}

main().catch((error: Error) => {
  process.stderr.write(`${error.message}\n`);
  process.exit(1);
});

import 'reflect-metadata';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import { createGateway } from '../../src/bootstrap';
import { loadGatewayConfig } from '../../src/config/gateway-config';
import { TokensService } from '../../src/tokens/tokens.service';
import { UsersService } from '../../src/users/users.service';
import { serveUntilStopped } from '../lib/child-protocol';

export interface GatewayServerOptions {
  readonly upstreamUrl: string;
  /** A database of its own on a real server; the embedded engine in memory without it. */
  readonly databaseUrl?: string;
  /** Shared rate-limit counters; in memory without it. */
  readonly redisUrl?: string;
}

/**
 * Limits are on and every request is counted, as in production, but out of the bench's reach: one
 * token sends far more than a real caller may, and the bench measures what counting costs.
 */
const COUNTED_BUT_UNREACHED = Object.fromEntries(
  ['AUTH_FAILURES', 'SIGN_INS', 'IP', 'READS', 'WRITES', 'STREAMS', 'UPLOADS'].map((bucket) => [
    `RATE_LIMIT_${bucket}_PER_MINUTE`,
    '1000000000',
  ]),
);

/**
 * The real gateway, built by the same createGateway main.ts uses, with production settings: every
 * check on (token authentication, authorization, MFA, rate limits), warn-level logging. It makes one user and token and hands the
 * token to the runner.
 */
async function main(): Promise<void> {
  const options = JSON.parse(process.argv[2] ?? '{}') as GatewayServerOptions;
  const port = await freePort();
  const config = loadGatewayConfig({
    NODE_ENV: 'production',
    PORT: String(port),
    HOST: '127.0.0.1',
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    RACK_HOST: options.upstreamUrl,
    RACK_TOKEN: 'bench-rack-password',
    // Production requires Google sign-in settings; the provider is never contacted by the bench.
    GOOGLE_CLIENT_ID: 'bench-client',
    GOOGLE_CLIENT_SECRET: 'bench-client-secret',
    GOOGLE_OAUTH_BASE_URL: 'http://127.0.0.1:9',
    APP_SECRET_KEY: 'bench-only-secret-key-0123456789abcdefghij',
    DATA_DIR: 'memory://',
    LOG_LEVEL: 'warn',
    ...COUNTED_BUT_UNREACHED,
    ...(options.databaseUrl ? { DATABASE_URL: options.databaseUrl } : {}),
    ...(options.redisUrl ? { REDIS_URL: options.redisUrl } : {}),
  });
  const app = await createGateway({ config });
  await app.listen(port, '127.0.0.1');
  const users = app.get(UsersService);
  const tokens = app.get(TokensService);
  const user = await users.create('bench@example.com', 'admin');
  const { token, secret } = await tokens.create(user, { name: 'bench', expiresAt: null });
  // MFA is required, as in production: the bench person has enrolled and stepped up with this token,
  // so exec and the like pass on the window (the check a person's requests meet all day).
  await users.setMfaEnrolled(user.id, new Date());
  await tokens.openStepUp(token.id, new Date(Date.now() + 24 * 60 * 60_000));
  serveUntilStopped({ kind: 'ready', port, token: secret }, () => app.close());
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

main().catch((error: Error) => {
  process.stderr.write(`bench gateway failed to start: ${error.stack ?? error.message}\n`);
  process.exit(1);
});

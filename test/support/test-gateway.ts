import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { type GatewayOptions, createGateway } from '../../src/bootstrap';
import { GatewayConfig, loadGatewayConfig } from '../../src/config/gateway-config';
import { TokensService } from '../../src/tokens/tokens.service';
import type { UserEntity, UserRole } from '../../src/users/user.entity';
import { UsersService } from '../../src/users/users.service';
import { freePort } from './free-port';
import { LogCapture } from './log-capture';
import { TestDatabase, createTestDatabase } from './test-database';

export const TEST_OAUTH_CLIENT = { clientId: 'rgw-test-client', clientSecret: 'rgw-test-client-secret' };

export interface TestGatewayOptions {
  readonly rackUrl: string;
  readonly rackToken: string;
  /** Origin of the mock OAuth provider; Google sign-in is off without it. */
  readonly oauthUrl?: string;
  /**
   * The host name in PUBLIC_URL (and `url`); the gateway listens on 127.0.0.1 either way. A real
   * browser's WebAuthn needs a name, `localhost`: an IP address cannot be a relying party id.
   */
  readonly publicHost?: string;
  /** Any further environment variables, exactly as an operator would set them. */
  readonly env?: Record<string, string>;
  /** Wraps the application module, e.g. to register one more pipeline stage. */
  readonly wrapModule?: GatewayOptions['wrapModule'];
}

export interface TestGateway {
  readonly app: NestFastifyApplication;
  readonly url: string;
  readonly config: GatewayConfig;
  readonly logs: LogCapture;
  createUser(email: string, role: UserRole): Promise<UserEntity>;
  /** A user of the given role and a live token for it, ready for Basic or Bearer auth. */
  createUserWithToken(email: string, role: UserRole): Promise<{ user: UserEntity; token: string }>;
  close(): Promise<void>;
}

/**
 * Starts the real gateway (the same createGateway main.ts uses) on an ephemeral port, against the given
 * rack and OAuth provider and a database of its own.
 */
export async function startTestGateway(options: TestGatewayOptions): Promise<TestGateway> {
  const database: TestDatabase = await createTestDatabase();
  // A spool of its own: gateways of other suites on this machine write other databases.
  const spoolDir = mkdtempSync(join(tmpdir(), 'rgw-audit-spool-'));
  const port = await freePort();
  // With TLS_CERT_FILE the gateway serves HTTPS itself; clients then need the issuing CA (test-certificates).
  const url = `${options.env?.TLS_CERT_FILE ? 'https' : 'http'}://${options.publicHost ?? '127.0.0.1'}:${port}`;
  const config = loadGatewayConfig({
    NODE_ENV: 'test',
    PORT: String(port),
    HOST: '127.0.0.1',
    PUBLIC_URL: url,
    RACK_HOST: options.rackUrl,
    RACK_TOKEN: options.rackToken,
    APP_SECRET_KEY: 'test-secret-key-that-is-long-enough-0123456789',
    DATA_DIR: 'memory://',
    LOG_LEVEL: 'info',
    // Suites send hundreds of requests, bad credentials among them, from one address: limits are
    // counted but out of reach unless a suite sets its own (test/e2e/rate-limit.e2e-spec.ts).
    ...UNREACHABLE_RATE_LIMITS,
    // People in most suites have no second factor; the MFA suites require it (test/e2e/mfa*.e2e-spec.ts).
    MFA_REQUIRED: 'false',
    AUDIT_SPOOL_DIR: spoolDir,
    ...(database.url ? { DATABASE_URL: database.url } : {}),
    ...(options.oauthUrl
      ? {
          GOOGLE_CLIENT_ID: TEST_OAUTH_CLIENT.clientId,
          GOOGLE_CLIENT_SECRET: TEST_OAUTH_CLIENT.clientSecret,
          GOOGLE_OAUTH_BASE_URL: options.oauthUrl,
        }
      : {}),
    ...options.env,
  });
  const logs = new LogCapture();
  // Gateways alive together share the process-wide logger (and the first one's capture).
  if (liveGateways === 0) resetProcessWideLogger();
  liveGateways += 1;
  // With LOG_FILE the gateway logs to its file, as it would in production; `logs` stays empty.
  const logDestination = options.env?.LOG_FILE ? undefined : logs;
  const app = await createGateway({ config, logDestination, wrapModule: options.wrapModule });
  await app.listen(port, '127.0.0.1');
  const users = app.get(UsersService);
  const tokens = app.get(TokensService);

  const createUser = (email: string, role: UserRole) => users.create(email, role);
  return {
    app,
    url,
    config,
    logs,
    createUser,
    async createUserWithToken(email, role) {
      const user = await createUser(email, role);
      const { secret } = await tokens.create(user, { name: 'test', expiresAt: null });
      return { user, token: secret };
    },
    async close() {
      liveGateways -= 1;
      await app.close();
      await database.drop();
      rmSync(spoolDir, { recursive: true, force: true });
    },
  };
}

let liveGateways = 0;

const UNREACHABLE_RATE_LIMITS = Object.fromEntries(
  ['AUTH_FAILURES', 'SIGN_INS', 'IP', 'READS', 'WRITES', 'STREAMS', 'UPLOADS'].map((bucket) => [
    `RATE_LIMIT_${bucket}_PER_MINUTE`,
    '1000000',
  ]),
);

/**
 * nestjs-pino keeps one pino instance per process, built by the first app; a second gateway in the same
 * test file would log into the first one's capture. The library's own test hook starts afresh.
 */
function resetProcessWideLogger(): void {
  const pinoLoggerModule = join(dirname(require.resolve('nestjs-pino')), 'PinoLogger.js');
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- a file the package does not export
  (require(pinoLoggerModule) as { __resetOutOfContextForTests(): void }).__resetOutOfContextForTests();
}

export function basicAuth(token: string, user = 'convox'): string {
  return `Basic ${Buffer.from(`${user}:${token}`).toString('base64')}`;
}

/** The id of the first process of the mock rack's `myapp`, as the caller sees it through the gateway. */
export async function firstProcessId(gatewayUrl: string, token: string): Promise<string> {
  const response = await fetch(`${gatewayUrl}/apps/myapp/processes`, { headers: { authorization: basicAuth(token) } });
  const [first] = (await response.json()) as Array<{ id: string }>;
  return first.id;
}

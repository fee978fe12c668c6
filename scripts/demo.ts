import 'reflect-metadata';
import { createGateway } from '../src/bootstrap';
import { loadGatewayConfig } from '../src/config/gateway-config';
import { TokensService } from '../src/tokens/tokens.service';
import type { UserRole } from '../src/users/user.entity';
import { UsersService } from '../src/users/users.service';
import { startMockOAuthProvider } from '../test/support/mock-oauth';
import { startMockRack } from '../test/support/mock-rack';

/**
 * `npm run demo`: the gateway on its embedded database, in front of the test suite's mock rack, with the
 * mock Google provider signing everyone in as the demo admin. Prints a RACK_URL for the convox CLI.
 */
const DEMO_USERS: Array<[string, UserRole]> = [
  ['admin@example.com', 'admin'],
  ['deployer@example.com', 'deployer'],
  ['ops@example.com', 'ops'],
  ['viewer@example.com', 'viewer'],
];

async function main(): Promise<void> {
  const port = Number(process.env.PORT ?? 8443);
  const publicUrl = `http://localhost:${port}`;
  const rack = await startMockRack({ logIntervalMs: 1000 });
  const oauth = await startMockOAuthProvider({
    clientId: 'demo-client',
    clientSecret: 'demo-client-secret',
    redirectUris: [`${publicUrl}/api/v1/auth/callback`],
    defaultIdentity: { email: 'admin@example.com', name: 'Demo Admin' },
  });

  const config = loadGatewayConfig({
    NODE_ENV: 'development',
    PORT: String(port),
    HOST: '127.0.0.1',
    PUBLIC_URL: publicUrl,
    RACK_HOST: rack.url,
    RACK_TOKEN: rack.password,
    GOOGLE_CLIENT_ID: 'demo-client',
    GOOGLE_CLIENT_SECRET: 'demo-client-secret',
    GOOGLE_OAUTH_BASE_URL: oauth.url,
    ADMIN_USERS: 'admin@example.com',
    APP_SECRET_KEY: 'demo-only-secret-key-never-use-in-production',
    DATA_DIR: process.env.DATA_DIR ?? './data/demo',
    LOG_LEVEL: 'warn',
    // Production requires a second factor of everyone before anything else; the demo's printed tokens
    // are meant to work at once, so it holds to them only those who enrol (unless told otherwise).
    MFA_REQUIRED: process.env.MFA_REQUIRED ?? 'false',
  });
  const app = await createGateway({ config });
  await app.listen(port, '127.0.0.1');

  const users = app.get(UsersService);
  for (const [email, role] of DEMO_USERS) if (!(await users.findByEmail(email))) await users.create(email, role);
  const tokens: string[] = [];
  for (const [email, role] of DEMO_USERS) {
    const user = await users.getByEmail(email);
    tokens.push(
      `  ${role.padEnd(9)} ${email.padEnd(22)} ${(await app.get(TokensService).create(user, { name: `demo ${new Date().toISOString()}`, expiresAt: null })).secret}`,
    );
  }

  process.stdout.write(
    [
      '',
      `Rack Gateway demo on ${publicUrl} (mock rack at ${rack.url}, embedded database in ${config.database.dataDir})`,
      '',
      'Point the convox CLI at it as the admin:',
      `  export RACK_URL=http://convox:${tokens[0].trim().split(/\s+/).pop()}@localhost:${port}`,
      '  convox apps',
      '',
      'Tokens for each role:',
      ...tokens,
      '',
      `Sign in with (mock) Google:  ${publicUrl}/api/v1/auth/login`,
      `API console:                 ${publicUrl}/api/docs`,
      config.mfa.required
        ? `Second factors are required (MFA_REQUIRED=true): enrol at ${publicUrl}/ui/mfa/enroll first.`
        : `Second factors are optional here (MFA_REQUIRED=false, unlike production): enrol at ${publicUrl}/ui/mfa/enroll to be held to them.`,
      '',
      'Ctrl-C to stop.',
      '',
    ].join('\n'),
  );

  const stop = async () => {
    await app.close();
    await Promise.all([rack.close(), oauth.close()]);
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
}

main().catch((error: Error) => {
  process.stderr.write(`${error.stack ?? error.message}\n`);
  process.exit(1);
});

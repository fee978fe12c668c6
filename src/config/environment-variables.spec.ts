import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidConfigurationError } from './environment-variables';
import { loadGatewayConfig } from './gateway-config';

const valid = {
  NODE_ENV: 'production',
  RACK_HOST: 'api.rack.example.com',
  RACK_TOKEN: 'rack-secret',
  GOOGLE_CLIENT_ID: 'client',
  GOOGLE_CLIENT_SECRET: 'secret',
  PUBLIC_URL: 'https://gateway.example.com',
  APP_SECRET_KEY: 'k'.repeat(32),
};

function problemsOf(env: Record<string, string | undefined>): string[] {
  try {
    loadGatewayConfig(env);
  } catch (error) {
    if (error instanceof InvalidConfigurationError) return error.problems;
    throw error;
  }
  return [];
}

describe('loadGatewayConfig', () => {
  it('names every missing production variable in one error', () => {
    const problems = problemsOf({ NODE_ENV: 'production' });
    const named = problems.map((problem) => problem.split(':')[0]);
    expect(named).toEqual(
      expect.arrayContaining(['PUBLIC_URL', 'RACK_HOST', 'RACK_TOKEN', 'GOOGLE_CLIENT_ID', 'GOOGLE_CLIENT_SECRET', 'APP_SECRET_KEY']),
    );
  });

  it('rejects malformed values by name', () => {
    const problems = problemsOf({ ...valid, PORT: 'eighty', ADMIN_USERS: 'a@example.com,not-an-email', RACK_TLS_FINGERPRINT: 'abc' });
    expect(problems.map((problem) => problem.split(':')[0]).sort()).toEqual(['ADMIN_USERS', 'PORT', 'RACK_TLS_FINGERPRINT']);
  });

  it('assumes https for a rack host without a scheme and applies defaults', () => {
    const config = loadGatewayConfig({ ...valid, ADMIN_USERS: ' Admin@Example.com , b@example.com' });
    expect(config.rack.url.href).toBe('https://api.rack.example.com/');
    expect(config.rack.username).toBe('convox');
    expect(config.http.port).toBe(8443);
    expect(config.adminEmails).toEqual(['admin@example.com', 'b@example.com']);
    expect(config.google?.tokenUrl).toBe('https://www.googleapis.com/oauth2/v4/token');
  });

  it('takes every Google endpoint from GOOGLE_OAUTH_BASE_URL with Google paths', () => {
    const config = loadGatewayConfig({ ...valid, GOOGLE_OAUTH_BASE_URL: 'http://127.0.0.1:9999/' });
    expect(config.google).toMatchObject({
      authorizationUrl: 'http://127.0.0.1:9999/o/oauth2/v2/auth',
      tokenUrl: 'http://127.0.0.1:9999/oauth2/v4/token',
      userProfileUrl: 'http://127.0.0.1:9999/oauth2/v3/userinfo',
    });
  });

  it('warns, without failing, when rack TLS verification is explicitly off', () => {
    const config = loadGatewayConfig({ ...valid, RACK_TLS_INSECURE: 'true' });
    expect(config.rack.tls.insecure).toBe(true);
    expect(config.warnings.join('\n')).toContain('RACK_TLS_INSECURE');
  });

  it('refuses trusted proxies that are no address or range, or that trust everyone', () => {
    const problems = problemsOf({ ...valid, TRUSTED_PROXIES: '10.0.0.0/8, 0.0.0.0/0, ::/0, proxy.internal, loopback' });
    expect(problems).toEqual([
      "TRUSTED_PROXIES: 0.0.0.0/0 trusts every address; name the proxies' own ranges",
      "TRUSTED_PROXIES: ::/0 trusts every address; name the proxies' own ranges",
      'TRUSTED_PROXIES: proxy.internal is not an IP address, a CIDR range or loopback/linklocal/uniquelocal',
    ]);
    expect(loadGatewayConfig({ ...valid, TRUSTED_PROXIES: '10.0.0.0/8,loopback' }).trustedProxies).toEqual(['10.0.0.0/8', 'loopback']);
  });

  it('checks the rate-limit settings by name and defaults them', () => {
    const problems = problemsOf({
      ...valid,
      REDIS_URL: 'http://cache:6379',
      RATE_LIMIT_READS_PER_MINUTE: '0',
      RATE_LIMIT_WRITES_PER_MINUTE: 'many',
    });
    expect(problems.map((problem) => problem.split(':')[0]).sort()).toEqual([
      'RATE_LIMIT_READS_PER_MINUTE',
      'RATE_LIMIT_WRITES_PER_MINUTE',
      'REDIS_URL',
    ]);
    expect(loadGatewayConfig(valid).rateLimits).toEqual({
      authFailures: 20,
      signIns: 10,
      ip: 6000,
      read: 1200,
      write: 120,
      stream: 60,
      upload: 30,
    });
    expect(loadGatewayConfig({ ...valid, REDIS_URL: 'rediss://:secret@cache:6380/2' }).redisUrl).toBe('rediss://:secret@cache:6380/2');
  });

  it('reads deploy approval policies per app, refusing any it cannot read rather than loosening them', () => {
    const policies = { '*': { approvers: 2 }, billing: { approvers: 3, commands: ['bin/migrate'] } };
    const config = loadGatewayConfig({ ...valid, DEPLOY_APPROVAL_POLICIES: JSON.stringify(policies) });
    expect(config.deployApprovals.policies).toEqual({
      '*': { approvers: 2, commands: [] },
      billing: { approvers: 3, commands: ['bin/migrate'] },
    });
    expect(loadGatewayConfig(valid).deployApprovals).toEqual({
      windowMs: 15 * 60_000,
      pendingMs: 60 * 60_000,
      policies: { '*': { approvers: 1, commands: [] } },
    });
    for (const bad of ['[]', '{"api": {"approvers": 0}}', '{"api": null}', '{"api": {"approvers": 1, "comands": []}}', 'not json']) {
      expect(problemsOf({ ...valid, DEPLOY_APPROVAL_POLICIES: bad }).map((problem) => problem.split(':')[0])).toEqual([
        'DEPLOY_APPROVAL_POLICIES',
      ]);
    }
  });

  it('checks READ_ONLY by name and defaults it off', () => {
    expect(problemsOf({ ...valid, READ_ONLY: 'yes' })).toEqual(['READ_ONLY: READ_ONLY must be true or false']);
    expect(loadGatewayConfig(valid).operations.readOnly).toBe(false);
    expect(loadGatewayConfig({ ...valid, READ_ONLY: 'true' }).operations.readOnly).toBe(true);
  });

  it('takes a METRICS_TOKEN long enough not to be guessed', () => {
    expect(problemsOf({ ...valid, METRICS_TOKEN: 'short' })).toEqual([
      'METRICS_TOKEN: METRICS_TOKEN must be at least 32 characters, e.g. `openssl rand -base64 32`',
    ]);
    expect(loadGatewayConfig(valid).operations.metricsToken).toBeUndefined();
    expect(loadGatewayConfig({ ...valid, METRICS_TOKEN: 'm'.repeat(32) }).operations.metricsToken).toBe('m'.repeat(32));
  });

  it('takes an http(s) NOTIFICATION_WEBHOOK_URL, never repeating it in an error, and defaults the retries', () => {
    const secretUrl = 'ftp://hooks.example.com/services/T000/B000/secret-part';
    const problems = problemsOf({ ...valid, NOTIFICATION_WEBHOOK_URL: secretUrl, NOTIFICATION_RETRY_LIMIT: '-1' });
    expect(problems).toEqual([
      'NOTIFICATION_WEBHOOK_URL: NOTIFICATION_WEBHOOK_URL must be an http:// or https:// URL',
      'NOTIFICATION_RETRY_LIMIT: NOTIFICATION_RETRY_LIMIT must not be less than 0',
    ]);
    expect(problems.join('\n')).not.toContain('secret-part');
    expect(loadGatewayConfig(valid).notifications).toEqual({ webhookUrl: undefined, retryLimit: 10, retryDelaySeconds: 30 });
    const url = 'https://hooks.example.com/services/T000/B000/secret-part';
    expect(loadGatewayConfig({ ...valid, NOTIFICATION_WEBHOOK_URL: url, NOTIFICATION_RETRY_DELAY_SECONDS: '1' }).notifications).toEqual({
      webhookUrl: url,
      retryLimit: 10,
      retryDelaySeconds: 1,
    });
  });

  it('takes an http(s) AUDIT_CHECKPOINT_URL without credentials in it, never repeating it in an error', () => {
    const secretPath = 'https://checkpoints.example.com/secret-part';
    expect(problemsOf({ ...valid, AUDIT_CHECKPOINT_URL: 'ftp://checkpoints.example.com/secret-part' })).toEqual([
      'AUDIT_CHECKPOINT_URL: AUDIT_CHECKPOINT_URL must be an http:// or https:// URL',
    ]);
    const withCredentials = problemsOf({ ...valid, AUDIT_CHECKPOINT_URL: 'https://user:secret-part@checkpoints.example.com/' });
    expect(withCredentials).toEqual([
      "AUDIT_CHECKPOINT_URL: must not hold credentials; put the receiver's token in AUDIT_CHECKPOINT_TOKEN",
    ]);
    const config = loadGatewayConfig({ ...valid, AUDIT_CHECKPOINT_URL: secretPath, AUDIT_CHECKPOINT_TOKEN: 'receiver-token' });
    expect(config.audit).toMatchObject({ checkpointToken: 'receiver-token', checkpointIntervalMs: 60_000 });
    expect(config.audit.checkpointUrl?.href).toBe(secretPath);
    expect(config.warnings.join('\n')).not.toContain('AUDIT_CHECKPOINT');
    const overHttp = loadGatewayConfig({
      ...valid,
      AUDIT_CHECKPOINT_URL: 'http://checkpoints.internal/',
      AUDIT_CHECKPOINT_TOKEN: 'receiver-token',
    });
    expect(overHttp.warnings.join('\n')).toContain('AUDIT_CHECKPOINT_TOKEN crosses the network in the clear');
    expect(overHttp.warnings.join('\n')).not.toContain('receiver-token');
  });

  it('takes AUDIT_RETENTION_DAYS as whole days, and has no retention by default', () => {
    expect(loadGatewayConfig(valid).audit.retentionDays).toBeUndefined();
    expect(loadGatewayConfig({ ...valid, AUDIT_RETENTION_DAYS: '400' }).audit.retentionDays).toBe(400);
    expect(problemsOf({ ...valid, AUDIT_RETENTION_DAYS: '0' })).toEqual([
      'AUDIT_RETENTION_DAYS: AUDIT_RETENTION_DAYS must not be less than 1',
    ]);
  });

  it('reconciles with the rack every 5 minutes by default, never with AUDIT_RECONCILE_SECONDS=0', () => {
    expect(loadGatewayConfig(valid).audit.reconcileIntervalMs).toBe(300_000);
    expect(loadGatewayConfig({ ...valid, AUDIT_RECONCILE_SECONDS: '0' }).audit.reconcileIntervalMs).toBe(0);
    expect(problemsOf({ ...valid, AUDIT_RECONCILE_SECONDS: '-5' })).toEqual([
      'AUDIT_RECONCILE_SECONDS: AUDIT_RECONCILE_SECONDS must not be less than 0',
    ]);
  });

  it('wants TLS_CERT_FILE and TLS_KEY_FILE together (their contents are checked in the TLS end-to-end spec)', () => {
    expect(problemsOf({ ...valid, TLS_CERT_FILE: '/etc/gateway/tls.crt' })).toEqual([
      'TLS_KEY_FILE: TLS_KEY_FILE is required with TLS_CERT_FILE: the PEM private key of that certificate',
    ]);
    expect(problemsOf({ ...valid, TLS_KEY_FILE: '/etc/gateway/tls.key', TLS_CERT_FILE: '' })).toEqual([
      'TLS_CERT_FILE: TLS_CERT_FILE is required with TLS_KEY_FILE: the PEM certificate chain the gateway serves HTTPS with',
    ]);
  });

  it('warns when browser sessions cannot work: an https PUBLIC_URL over plain HTTP with no trusted proxy to say so', () => {
    const warning = /browser sign-in keeps no session/;
    expect(loadGatewayConfig(valid).warnings.join('\n')).toMatch(warning);
    expect(loadGatewayConfig({ ...valid, TRUSTED_PROXIES: '10.0.0.0/8' }).warnings.join('\n')).not.toMatch(warning);
    expect(loadGatewayConfig({ ...valid, PUBLIC_URL: 'http://gateway.internal' }).warnings.join('\n')).not.toMatch(warning);
  });

  it('keeps the audit spool beside the embedded engine’s data, of this process alone when that is in memory, unless told', () => {
    expect(loadGatewayConfig(valid).audit.spoolDir).toBe(join('data', 'audit-spool'));
    expect(loadGatewayConfig({ ...valid, DATA_DIR: '/var/lib/gateway' }).audit.spoolDir).toBe('/var/lib/gateway/audit-spool');
    expect(loadGatewayConfig({ ...valid, DATA_DIR: 'memory://' }).audit.spoolDir).toBe(
      join(tmpdir(), `rack-gateway-audit-spool-${process.pid}`),
    );
    expect(loadGatewayConfig({ ...valid, AUDIT_SPOOL_DIR: '/spool' }).audit.spoolDir).toBe('/spool');
  });

  it('is https-only (Secure cookies, HSTS) exactly when PUBLIC_URL is https', () => {
    expect(loadGatewayConfig(valid).http).toMatchObject({ httpsOnly: true, tls: undefined });
    expect(loadGatewayConfig({ ...valid, PUBLIC_URL: 'http://gateway.internal:8443' }).http.httpsOnly).toBe(false);
    expect(loadGatewayConfig({ ...valid, NODE_ENV: 'development', PUBLIC_URL: undefined }).http).toMatchObject({
      publicUrl: 'http://localhost:8443',
      httpsOnly: false,
    });
  });
});

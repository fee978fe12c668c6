import proxyaddr from '@fastify/proxy-addr';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type ServerCertificate,
  ServerCertificateError,
  type ServerCertificateFiles,
  readServerCertificate,
} from '../tls/server-certificate';
import { EnvironmentVariables, InvalidConfigurationError, parseEnvironment } from './environment-variables';

const GOOGLE_AUTHORIZATION_ORIGIN = 'https://accounts.google.com';
const GOOGLE_API_ORIGIN = 'https://www.googleapis.com';

export interface RackTlsConfig {
  /** Extra CA bundle for a rack with a private or self-signed certificate. */
  readonly ca?: Buffer;
  /** SHA-256 fingerprint (upper-case hex with colons) the rack's certificate must match. */
  readonly fingerprint?: string;
  readonly insecure: boolean;
}

export interface GoogleOAuthConfig {
  readonly clientId: string;
  readonly clientSecret: string;
  readonly allowedDomains: readonly string[];
  readonly authorizationUrl: string;
  readonly tokenUrl: string;
  readonly userProfileUrl: string;
}

export interface DeployApprovalPolicy {
  readonly approvers: number;
  readonly commands: readonly string[];
}

/** The validated, derived configuration every module reads; built once from the environment. */
export interface GatewayConfig {
  readonly environment: 'production' | 'development' | 'test';
  readonly http: {
    readonly host: string;
    readonly port: number;
    readonly publicUrl: string;
    /**
     * People reach the gateway over HTTPS only (PUBLIC_URL is https://, as it must be when the gateway
     * terminates TLS itself): cookies are Secure and answers carry Strict-Transport-Security.
     */
    readonly httpsOnly: boolean;
    /** The gateway serves HTTPS itself with this pair (TLS_CERT_FILE, TLS_KEY_FILE), reloaded on SIGHUP; plain HTTP without. */
    readonly tls?: { readonly files: ServerCertificateFiles; readonly certificate: ServerCertificate };
    /** How long an idle client connection is kept open between requests. */
    readonly keepAliveTimeoutMs: number;
    /** On SIGTERM, how long readiness fails before the gateway closes. */
    readonly shutdownGraceMs: number;
  };
  readonly operations: {
    /** Changes to the rack are refused; reads and the gateway's own API go on. */
    readonly readOnly: boolean;
    /** The Bearer token GET /api/v1/metrics requires; the metrics are public without one. */
    readonly metricsToken?: string;
  };
  readonly rack: {
    readonly url: URL;
    readonly username: string;
    readonly token: string;
    readonly tls: RackTlsConfig;
    /** Silence on a rack connection after which the request fails with 504 (no total timeout). */
    readonly idleTimeoutMs: number;
  };
  readonly google?: GoogleOAuthConfig;
  readonly adminEmails: readonly string[];
  readonly database: { readonly url?: string; readonly dataDir: string };
  readonly sessions: { readonly secret: string; readonly idleMs: number; readonly maxAgeMs: number };
  readonly secrets: {
    /** Key-name fragments treated as secret on top of the defaults. */
    readonly extraKeyPatterns: readonly string[];
    /** Env keys nobody may change through the gateway, per app; `*` applies to every app. */
    readonly protectedEnvKeys: Readonly<Record<string, readonly string[]>>;
  };
  readonly audit: {
    /** Keys the chain's HMAC; APP_SECRET_KEY's is used (through its own derivation) when unset. */
    readonly hmacKey?: string;
    /** Identical successful reads within this window are one event with a count; 0 records each. */
    readonly aggregateReadsMs: number;
    /** Where the chain head is checkpointed outside the database: a directory, an HTTP endpoint, both or neither. */
    readonly checkpointDir?: string;
    readonly checkpointUrl?: URL;
    /** A credential: sent as a Bearer token to checkpointUrl, never logged. */
    readonly checkpointToken?: string;
    readonly checkpointIntervalMs: number;
    /** The default age past which `npm run audit:retain` archives and removes events; it never runs by itself. */
    readonly retentionDays?: number;
    /** How often one instance lists the rack's recent builds and releases and flags those no audited request made; 0: never. */
    readonly reconcileIntervalMs: number;
    /** Where events wait on local disk while the database cannot take them, replayed in order once it can. */
    readonly spoolDir: string;
  };
  readonly mfa: {
    /** Every person must enrol before using the gateway; otherwise only those who enrolled are held to the levels. */
    readonly required: boolean;
    readonly stepUpWindowMs: number;
    readonly lockoutMs: number;
    /** WebAuthn relying party id (a host name) and the origin assertions must come from. */
    readonly relyingPartyId: string;
    readonly origin: string;
  };
  /** Webhook notices (deploy approvals); none are sent without a URL. */
  readonly notifications: {
    /** A credential (Slack's URLs are): never logged, never put in an error. */
    readonly webhookUrl?: string;
    readonly retryLimit: number;
    /** The wait before the first retry; pg-boss doubles it (with jitter) for each one after. */
    readonly retryDelaySeconds: number;
  };
  readonly deployApprovals: {
    /** How long an approval lets its deploy start steps, unless extended. */
    readonly windowMs: number;
    /** How long a request waits for its decision. */
    readonly pendingMs: number;
    /** Per app (`*` for the rest): distinct approvers needed, and the commands a deploy may run or exec. */
    readonly policies: Readonly<Record<string, DeployApprovalPolicy>>;
  };
  /** Shared state across gateway instances (rate-limit counters); each instance keeps its own without it. */
  readonly redisUrl?: string;
  /** Peers (CIDRs, addresses or proxy-addr's named ranges) whose X-Forwarded-For names the client. */
  readonly trustedProxies: readonly string[];
  /** Requests per minute of each rate-limit bucket (the rate-limit module). */
  readonly rateLimits: Readonly<Record<RateLimitBucket, number>>;
  readonly logLevel: string;
  /** Logs to a file instead of stdout, rolled daily and at `maxSize` (pino-roll's `500k`, `100m`, `1g`), `keep` old files kept. */
  readonly logFile?: { readonly path: string; readonly maxSize: string; readonly keep: number };
  /** Problems worth a warning at start (never secrets). */
  readonly warnings: readonly string[];
}

/** Per client IP: failed authentications, sign-in starts, everything; per caller: each rate class of route. */
export type RateLimitBucket = 'authFailures' | 'signIns' | 'ip' | 'read' | 'write' | 'stream' | 'upload';

export const GATEWAY_CONFIG = Symbol('GATEWAY_CONFIG');

/** A trusted range of every address would let any client choose the IP it is limited and audited as. */
function trustedProxyProblem(entry: string): string | undefined {
  if (/\/0$/.test(entry)) return `TRUSTED_PROXIES: ${entry} trusts every address; name the proxies' own ranges`;
  try {
    proxyaddr.compile(entry);
    return undefined;
  } catch {
    return `TRUSTED_PROXIES: ${entry} is not an IP address, a CIDR range or loopback/linklocal/uniquelocal`;
  }
}

/** RACK_HOST may omit the scheme; a rack API is always HTTPS unless the operator says otherwise. */
function parseRackUrl(rackHost: string): URL {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(rackHost) ? rackHost : `https://${rackHost}`;
  const url = new URL(withScheme);
  url.username = '';
  url.password = '';
  url.pathname = url.pathname.replace(/\/+$/, '');
  return url;
}

function normaliseFingerprint(fingerprint: string): string {
  const hex = fingerprint.replace(/:/g, '').toUpperCase();
  return hex.match(/.{2}/g)?.join(':') ?? hex;
}

function googleEndpoints(baseUrl: string | undefined) {
  const authorizationOrigin = baseUrl?.replace(/\/+$/, '') ?? GOOGLE_AUTHORIZATION_ORIGIN;
  const apiOrigin = baseUrl?.replace(/\/+$/, '') ?? GOOGLE_API_ORIGIN;
  return {
    authorizationUrl: `${authorizationOrigin}/o/oauth2/v2/auth`,
    tokenUrl: `${apiOrigin}/oauth2/v4/token`,
    userProfileUrl: `${apiOrigin}/oauth2/v3/userinfo`,
  };
}

/**
 * Beside the embedded engine's data. A database in memory ends with its process, and so does its
 * spool: another process's chain is no place for its events.
 */
function defaultSpoolDir(dataDir: string): string {
  return dataDir === 'memory://' ? join(tmpdir(), `rack-gateway-audit-spool-${process.pid}`) : join(dataDir, 'audit-spool');
}

const TLS_FILE_VARIABLES: Record<keyof ServerCertificateFiles, string> = { certFile: 'TLS_CERT_FILE', keyFile: 'TLS_KEY_FILE' };

/** The gateway's own certificate pair, checked now so a bad one stops the start rather than the first handshake. */
function serverTls(env: EnvironmentVariables, problems: string[], warnings: string[]): GatewayConfig['http']['tls'] {
  if (!env.TLS_CERT_FILE || !env.TLS_KEY_FILE) return undefined;
  if (env.PUBLIC_URL && !/^https:/i.test(env.PUBLIC_URL)) {
    problems.push('PUBLIC_URL: must be an https:// URL when the gateway serves HTTPS itself (TLS_CERT_FILE)');
  }
  const files = { certFile: env.TLS_CERT_FILE, keyFile: env.TLS_KEY_FILE };
  try {
    const certificate = readServerCertificate(files);
    if (certificate.validTo.getTime() < Date.now()) {
      warnings.push(`TLS_CERT_FILE: the certificate expired on ${certificate.validTo.toISOString()}; clients will refuse it`);
    }
    return { files, certificate };
  } catch (error) {
    if (!(error instanceof ServerCertificateError)) throw error;
    problems.push(`${TLS_FILE_VARIABLES[error.file]}: ${error.message}`);
    return undefined;
  }
}

function buildConfig(env: EnvironmentVariables): GatewayConfig {
  const problems: string[] = [];
  const warnings: string[] = [];
  const tls = serverTls(env, problems, warnings);

  let ca: Buffer | undefined;
  if (env.RACK_CA_FILE) {
    try {
      ca = readFileSync(env.RACK_CA_FILE);
    } catch (error) {
      problems.push(`RACK_CA_FILE: cannot read ${env.RACK_CA_FILE} (${(error as NodeJS.ErrnoException).code})`);
    }
  }
  const insecure = env.RACK_TLS_INSECURE === 'true';
  if (insecure) {
    warnings.push('RACK_TLS_INSECURE=true: the rack certificate is not verified; prefer RACK_CA_FILE or RACK_TLS_FINGERPRINT');
  }

  let secret = env.APP_SECRET_KEY;
  if (!secret) {
    secret = randomBytes(32).toString('base64url');
    warnings.push(
      'APP_SECRET_KEY is not set: using a random key, so browser sessions end and the audit chain cannot be verified after the gateway restarts',
    );
  }

  let protectedEnvKeys: Record<string, string[]> = {};
  if (env.PROTECTED_ENV_KEYS) {
    const parsed = JSON.parse(env.PROTECTED_ENV_KEYS) as unknown;
    const valid =
      parsed !== null &&
      typeof parsed === 'object' &&
      !Array.isArray(parsed) &&
      Object.values(parsed).every((keys) => Array.isArray(keys) && keys.every((key) => typeof key === 'string'));
    if (valid) protectedEnvKeys = parsed as Record<string, string[]>;
    else problems.push('PROTECTED_ENV_KEYS: must map app names (or *) to lists of keys, e.g. {"*": ["RAILS_MASTER_KEY"]}');
  }

  const deployApprovalPolicies = parseDeployApprovalPolicies(env.DEPLOY_APPROVAL_POLICIES, problems);
  const checkpointUrl = auditCheckpointUrl(env, problems, warnings);

  for (const entry of env.TRUSTED_PROXIES) {
    const problem = trustedProxyProblem(entry);
    if (problem) problems.push(problem);
  }

  if (env.SESSION_MAX_MINUTES < env.SESSION_IDLE_MINUTES) {
    problems.push('SESSION_MAX_MINUTES: must be at least SESSION_IDLE_MINUTES');
  }
  const publicUrl = (env.PUBLIC_URL ?? `${tls ? 'https' : 'http'}://localhost:${env.PORT}`).replace(/\/+$/, '');
  const publicHost = new URL(publicUrl).hostname;
  const relyingPartyId = env.WEBAUTHN_RP_ID?.toLowerCase() ?? publicHost;
  if (publicHost !== relyingPartyId && !publicHost.endsWith(`.${relyingPartyId}`)) {
    problems.push(`WEBAUTHN_RP_ID: ${relyingPartyId} must be PUBLIC_URL's host (${publicHost}) or a parent domain of it`);
  }
  if (problems.length > 0) throw new InvalidConfigurationError(problems);

  const google =
    env.GOOGLE_CLIENT_ID && env.GOOGLE_CLIENT_SECRET
      ? {
          clientId: env.GOOGLE_CLIENT_ID,
          clientSecret: env.GOOGLE_CLIENT_SECRET,
          allowedDomains: env.GOOGLE_ALLOWED_DOMAINS.map((domain) => domain.toLowerCase()),
          ...googleEndpoints(env.GOOGLE_OAUTH_BASE_URL),
        }
      : undefined;

  const httpsOnly = /^https:/i.test(publicUrl);
  if (httpsOnly && !tls && env.TRUSTED_PROXIES.length === 0 && google) {
    warnings.push(
      'PUBLIC_URL is https but the gateway serves plain HTTP and trusts no proxy: browser sign-in keeps no session, since ' +
        'the Secure session cookie is set only when a trusted proxy says the browser came over HTTPS (X-Forwarded-Proto). ' +
        'Set TRUSTED_PROXIES to the load balancer, or TLS_CERT_FILE and TLS_KEY_FILE.',
    );
  }
  return {
    environment: env.NODE_ENV as GatewayConfig['environment'],
    http: {
      host: env.HOST,
      port: env.PORT,
      publicUrl,
      httpsOnly,
      tls,
      keepAliveTimeoutMs: env.CLIENT_KEEP_ALIVE_SECONDS * 1000,
      shutdownGraceMs: env.SHUTDOWN_GRACE_SECONDS * 1000,
    },
    operations: { readOnly: env.READ_ONLY === 'true', metricsToken: env.METRICS_TOKEN },
    rack: {
      url: parseRackUrl(env.RACK_HOST),
      username: env.RACK_USERNAME,
      token: env.RACK_TOKEN,
      tls: { ca, fingerprint: env.RACK_TLS_FINGERPRINT && normaliseFingerprint(env.RACK_TLS_FINGERPRINT), insecure },
      idleTimeoutMs: env.RACK_IDLE_TIMEOUT_SECONDS * 1000,
    },
    google,
    adminEmails: env.ADMIN_USERS.map((email) => email.toLowerCase()),
    database: { url: env.DATABASE_URL, dataDir: env.DATA_DIR },
    sessions: { secret, idleMs: env.SESSION_IDLE_MINUTES * 60_000, maxAgeMs: env.SESSION_MAX_MINUTES * 60_000 },
    secrets: { extraKeyPatterns: env.SECRET_ENV_KEY_PATTERNS, protectedEnvKeys },
    audit: {
      hmacKey: env.AUDIT_HMAC_KEY,
      aggregateReadsMs: env.AUDIT_AGGREGATE_READS_SECONDS * 1000,
      checkpointDir: env.AUDIT_CHECKPOINT_DIR,
      checkpointUrl,
      checkpointToken: env.AUDIT_CHECKPOINT_TOKEN,
      checkpointIntervalMs: env.AUDIT_CHECKPOINT_SECONDS * 1000,
      retentionDays: env.AUDIT_RETENTION_DAYS,
      reconcileIntervalMs: env.AUDIT_RECONCILE_SECONDS * 1000,
      spoolDir: env.AUDIT_SPOOL_DIR ?? defaultSpoolDir(env.DATA_DIR),
    },
    mfa: {
      required: env.MFA_REQUIRED === 'true',
      stepUpWindowMs: env.MFA_STEP_UP_WINDOW_MINUTES * 60_000,
      lockoutMs: env.MFA_LOCKOUT_MINUTES * 60_000,
      relyingPartyId,
      origin: new URL(publicUrl).origin,
    },
    notifications: {
      webhookUrl: env.NOTIFICATION_WEBHOOK_URL,
      retryLimit: env.NOTIFICATION_RETRY_LIMIT,
      retryDelaySeconds: env.NOTIFICATION_RETRY_DELAY_SECONDS,
    },
    deployApprovals: {
      windowMs: env.DEPLOY_APPROVAL_WINDOW_MINUTES * 60_000,
      pendingMs: env.DEPLOY_APPROVAL_PENDING_MINUTES * 60_000,
      policies: deployApprovalPolicies,
    },
    redisUrl: env.REDIS_URL,
    trustedProxies: env.TRUSTED_PROXIES,
    rateLimits: {
      authFailures: env.RATE_LIMIT_AUTH_FAILURES_PER_MINUTE,
      signIns: env.RATE_LIMIT_SIGN_INS_PER_MINUTE,
      ip: env.RATE_LIMIT_IP_PER_MINUTE,
      read: env.RATE_LIMIT_READS_PER_MINUTE,
      write: env.RATE_LIMIT_WRITES_PER_MINUTE,
      stream: env.RATE_LIMIT_STREAMS_PER_MINUTE,
      upload: env.RATE_LIMIT_UPLOADS_PER_MINUTE,
    },
    logLevel: env.LOG_LEVEL,
    logFile: env.LOG_FILE === undefined ? undefined : { path: env.LOG_FILE, maxSize: env.LOG_FILE_MAX_SIZE, keep: env.LOG_FILE_KEEP },
    warnings,
  };
}

/**
 * The one place the process environment is read. Throws InvalidConfigurationError naming every bad
 * variable, so a misconfigured production start fails before it listens.
 */
export function loadGatewayConfig(source: Record<string, string | undefined> = process.env): GatewayConfig {
  return buildConfig(parseEnvironment(source));
}

/** Just the database settings, for commands that touch nothing else (migrations). */
export function loadDatabaseConfig(source: Record<string, string | undefined> = process.env): GatewayConfig['database'] {
  const url = source.DATABASE_URL || undefined;
  if (url && !/^postgres(ql)?:\/\//.test(url)) throw new InvalidConfigurationError(['DATABASE_URL: must be a postgres:// URL']);
  return { url, dataDir: source.DATA_DIR || './data' };
}

/** AUDIT_CHECKPOINT_URL, whose messages never repeat it: its path may be a credential, as webhook URLs' are. */
function auditCheckpointUrl(env: EnvironmentVariables, problems: string[], warnings: string[]): URL | undefined {
  if (!env.AUDIT_CHECKPOINT_URL) {
    if (env.AUDIT_CHECKPOINT_TOKEN) warnings.push('AUDIT_CHECKPOINT_TOKEN is set without AUDIT_CHECKPOINT_URL: it is not used');
    return undefined;
  }
  const url = new URL(env.AUDIT_CHECKPOINT_URL);
  if (url.username || url.password) {
    problems.push("AUDIT_CHECKPOINT_URL: must not hold credentials; put the receiver's token in AUDIT_CHECKPOINT_TOKEN");
    return undefined;
  }
  if (url.protocol === 'http:' && env.AUDIT_CHECKPOINT_TOKEN) {
    warnings.push('AUDIT_CHECKPOINT_URL is http://: AUDIT_CHECKPOINT_TOKEN crosses the network in the clear; prefer https://');
  }
  return url;
}

const POLICY_EXAMPLE = '{"*": {"approvers": 1}, "billing": {"approvers": 2, "commands": ["bin/migrate"]}}';

/** DEPLOY_APPROVAL_POLICIES, every entry checked: a policy that does not parse must stop the gateway, not loosen it. */
function parseDeployApprovalPolicies(json: string | undefined, problems: string[]): Record<string, DeployApprovalPolicy> {
  const policies: Record<string, DeployApprovalPolicy> = { '*': { approvers: 1, commands: [] } };
  if (!json) return policies;
  const parsed = JSON.parse(json) as unknown;
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    problems.push(`DEPLOY_APPROVAL_POLICIES: must map app names (or *) to policies, e.g. ${POLICY_EXAMPLE}`);
    return policies;
  }
  for (const [app, policy] of Object.entries(parsed as Record<string, unknown>)) {
    const { approvers = 1, commands = [], ...unknown } = (policy ?? {}) as Record<string, unknown>;
    const valid =
      typeof policy === 'object' &&
      policy !== null &&
      !Array.isArray(policy) &&
      Object.keys(unknown).length === 0 &&
      Number.isInteger(approvers) &&
      (approvers as number) >= 1 &&
      (approvers as number) <= 10 &&
      Array.isArray(commands) &&
      commands.every((command) => typeof command === 'string' && command.trim() !== '');
    if (!valid) {
      problems.push(`DEPLOY_APPROVAL_POLICIES: ${app}: approvers must be 1 to 10 and commands a list of commands, e.g. ${POLICY_EXAMPLE}`);
      continue;
    }
    policies[app] = { approvers: approvers as number, commands: commands as string[] };
  }
  return policies;
}

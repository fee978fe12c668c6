import { applyDecorators } from '@nestjs/common';
import { Transform, plainToInstance } from 'class-transformer';
import {
  IsBooleanString,
  IsEmail,
  IsFQDN,
  IsIn,
  IsInt,
  IsJSON,
  IsNotEmpty,
  IsOptional,
  IsString,
  IsUrl,
  Matches,
  Max,
  Min,
  MinLength,
  ValidateIf,
  validateSync,
} from 'class-validator';

const PORT_MESSAGE = 'PORT must be a whole number from 0 to 65535';
const isProduction = (env: EnvironmentVariables) => env.NODE_ENV === 'production';
const toInteger = ({ value }: { value: unknown }) => (value === undefined || value === '' ? undefined : Number(value));
/** A whole number of at least `min`, from its decimal text. */
const WholeNumber = ({ min }: { min: number }) => applyDecorators(Transform(toInteger), IsInt(), Min(min));
const splitList = ({ value }: { value: unknown }) =>
  typeof value === 'string'
    ? value
        .split(',')
        .map((item) => item.trim())
        .filter(Boolean)
    : value;

/**
 * Every variable the gateway reads, validated once at start. Names and defaults are the README's
 * configuration table; keep the two in step.
 */
export class EnvironmentVariables {
  @IsIn(['production', 'development', 'test'])
  NODE_ENV = 'production';

  @Transform(toInteger)
  @IsInt({ message: PORT_MESSAGE })
  @Min(0, { message: PORT_MESSAGE })
  @Max(65535, { message: PORT_MESSAGE })
  PORT = 8443;

  @IsString()
  HOST = '0.0.0.0';

  @ValidateIf((env: EnvironmentVariables) => isProduction(env) || env.PUBLIC_URL !== undefined)
  @IsNotEmpty({ message: 'PUBLIC_URL is required in production: the URL people and the CLI reach the gateway at' })
  @IsUrl({ require_tld: false, require_protocol: true, protocols: ['http', 'https'] })
  PUBLIC_URL?: string;

  /** With TLS_KEY_FILE: the gateway serves HTTPS itself; both or neither, their contents checked in gateway-config. */
  @ValidateIf((env: EnvironmentVariables) => env.TLS_CERT_FILE !== undefined || env.TLS_KEY_FILE !== undefined)
  @IsNotEmpty({ message: 'TLS_CERT_FILE is required with TLS_KEY_FILE: the PEM certificate chain the gateway serves HTTPS with' })
  @IsString()
  TLS_CERT_FILE?: string;

  @ValidateIf((env: EnvironmentVariables) => env.TLS_CERT_FILE !== undefined || env.TLS_KEY_FILE !== undefined)
  @IsNotEmpty({ message: 'TLS_KEY_FILE is required with TLS_CERT_FILE: the PEM private key of that certificate' })
  @IsString()
  TLS_KEY_FILE?: string;

  /** Above the 60 s idle timeout of AWS load balancers and ingress-nginx: the balancer, not the gateway, must close first. */
  @WholeNumber({ min: 1 })
  CLIENT_KEEP_ALIVE_SECONDS = 65;

  /** How long readiness fails before the gateway closes on SIGTERM: the load balancer's time to stop sending. */
  @WholeNumber({ min: 0 })
  SHUTDOWN_GRACE_SECONDS = 5;

  /** Refuses every change to the rack (503) while reads and the admin API go on: for incidents and migrations. */
  @IsIn(['true', 'false'], { message: 'READ_ONLY must be true or false' })
  READ_ONLY = 'false';

  /** When set, GET /api/v1/metrics needs it as a Bearer token; otherwise the metrics are public. */
  @IsOptional()
  @IsString()
  @MinLength(32, { message: 'METRICS_TOKEN must be at least 32 characters, e.g. `openssl rand -base64 32`' })
  METRICS_TOKEN?: string;

  @IsNotEmpty({ message: 'RACK_HOST is required: the rack API URL, e.g. https://api.rack.example.com' })
  @IsUrl({ require_tld: false, protocols: ['http', 'https'] })
  RACK_HOST!: string;

  @IsNotEmpty({ message: 'RACK_TOKEN is required: the rack API password the gateway alone holds' })
  @IsString()
  RACK_TOKEN!: string;

  @IsString()
  @IsNotEmpty()
  RACK_USERNAME = 'convox';

  @IsOptional()
  @IsString()
  RACK_CA_FILE?: string;

  @IsOptional()
  @Matches(/^([0-9A-Fa-f]{2}:?){31}[0-9A-Fa-f]{2}$/, {
    message: 'RACK_TLS_FINGERPRINT must be a SHA-256 certificate fingerprint (64 hex digits, colons optional)',
  })
  RACK_TLS_FINGERPRINT?: string;

  @IsOptional()
  @IsBooleanString()
  RACK_TLS_INSECURE?: string;

  @WholeNumber({ min: 1 })
  RACK_IDLE_TIMEOUT_SECONDS = 900;

  @ValidateIf((env: EnvironmentVariables) => isProduction(env) || env.GOOGLE_CLIENT_SECRET !== undefined)
  @IsNotEmpty({ message: 'GOOGLE_CLIENT_ID is required: the OAuth client for Google sign-in' })
  GOOGLE_CLIENT_ID?: string;

  @ValidateIf((env: EnvironmentVariables) => isProduction(env) || env.GOOGLE_CLIENT_ID !== undefined)
  @IsNotEmpty({ message: 'GOOGLE_CLIENT_SECRET is required: the OAuth client secret for Google sign-in' })
  GOOGLE_CLIENT_SECRET?: string;

  @IsOptional()
  @Transform(splitList)
  @IsFQDN({ require_tld: false }, { each: true })
  GOOGLE_ALLOWED_DOMAINS: string[] = [];

  @IsOptional()
  @IsUrl({ require_tld: false, require_protocol: true, protocols: ['http', 'https'] })
  GOOGLE_OAUTH_BASE_URL?: string;

  @IsOptional()
  @Transform(splitList)
  @IsEmail({}, { each: true, message: 'ADMIN_USERS must be a comma-separated list of email addresses' })
  ADMIN_USERS: string[] = [];

  @IsOptional()
  @IsUrl({ require_tld: false, protocols: ['postgres', 'postgresql'] })
  DATABASE_URL?: string;

  @IsString()
  DATA_DIR = './data';

  @ValidateIf((env: EnvironmentVariables) => isProduction(env) || env.APP_SECRET_KEY !== undefined)
  @IsNotEmpty({ message: 'APP_SECRET_KEY is required in production: 32+ random characters that sign session cookies' })
  @IsString()
  @MinLength(32, { message: 'APP_SECRET_KEY must be at least 32 characters (it signs session cookies)' })
  APP_SECRET_KEY?: string;

  @WholeNumber({ min: 1 })
  SESSION_IDLE_MINUTES = 480;

  @WholeNumber({ min: 1 })
  SESSION_MAX_MINUTES = 1440;

  @IsOptional()
  @Transform(splitList)
  @Matches(/^[A-Za-z0-9_]+$/, { each: true, message: 'SECRET_ENV_KEY_PATTERNS must be a comma-separated list of key-name fragments' })
  SECRET_ENV_KEY_PATTERNS: string[] = [];

  @IsOptional()
  @IsJSON({ message: 'PROTECTED_ENV_KEYS must be JSON: {"<app or *>": ["KEY", ...]}' })
  PROTECTED_ENV_KEYS?: string;

  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  LOG_LEVEL = 'info';

  /** Logs go to this file, rotated, instead of stdout. */
  @IsOptional()
  @IsString()
  LOG_FILE?: string;

  @Matches(/^[1-9][0-9]*[kmg]$/, { message: 'LOG_FILE_MAX_SIZE must be a size such as 500k, 100m or 1g' })
  LOG_FILE_MAX_SIZE = '100m';

  @WholeNumber({ min: 1 })
  LOG_FILE_KEEP = 10;

  /** Keys the audit chain's HMAC; derived from APP_SECRET_KEY when unset. */
  @IsOptional()
  @IsString()
  @MinLength(32, { message: 'AUDIT_HMAC_KEY must be at least 32 characters' })
  AUDIT_HMAC_KEY?: string;

  @WholeNumber({ min: 0 })
  AUDIT_AGGREGATE_READS_SECONDS = 10;

  /** Where the chain head is checkpointed, outside the database (a volume the database's admins cannot write). */
  @IsOptional()
  @IsString()
  AUDIT_CHECKPOINT_DIR?: string;

  @WholeNumber({ min: 1 })
  AUDIT_CHECKPOINT_SECONDS = 60;

  /** Where each checkpoint is POSTed, and the newest read back with GET, outside the database's reach. */
  @IsOptional()
  @IsUrl(
    { require_tld: false, require_protocol: true, protocols: ['http', 'https'] },
    { message: 'AUDIT_CHECKPOINT_URL must be an http:// or https:// URL' },
  )
  AUDIT_CHECKPOINT_URL?: string;

  /** Sent to AUDIT_CHECKPOINT_URL as a Bearer token; never logged. */
  @IsOptional()
  @IsString()
  AUDIT_CHECKPOINT_TOKEN?: string;

  /** `npm run audit:retain` removes (after archiving) events older than this many days unless told otherwise. */
  @IsOptional()
  @WholeNumber({ min: 1 })
  AUDIT_RETENTION_DAYS?: number;

  /** How often the rack's recent builds and releases are checked against the trail; 0 turns it off. */
  @WholeNumber({ min: 0 })
  AUDIT_RECONCILE_SECONDS = 300;
  /** Where events the database cannot take wait on local disk until it can; under DATA_DIR when unset. */
  @IsOptional()
  @IsString()
  AUDIT_SPOOL_DIR?: string;

  /** Shared rate-limit counters; without it each instance counts on its own. */
  @IsOptional()
  @IsUrl(
    { require_tld: false, require_protocol: true, protocols: ['redis', 'rediss'] },
    { message: 'REDIS_URL must be a redis:// or rediss:// URL' },
  )
  REDIS_URL?: string;

  /** Peers whose X-Forwarded-For is believed; checked for CIDR syntax and wildcards in gateway-config. */
  @IsOptional()
  @Transform(splitList)
  @IsString({ each: true })
  TRUSTED_PROXIES: string[] = [];

  /** Every person must enrol a second factor before anything but enrolment; off, only people who enrolled are held to it. */
  @IsIn(['true', 'false'], { message: 'MFA_REQUIRED must be true or false' })
  MFA_REQUIRED = 'true';

  @WholeNumber({ min: 1 })
  MFA_STEP_UP_WINDOW_MINUTES = 10;

  /** How long five failed second-factor attempts lock an account, unless an admin unlocks it sooner. */
  @WholeNumber({ min: 1 })
  MFA_LOCKOUT_MINUTES = 30;

  /** The WebAuthn relying party: the host name passkeys are bound to; PUBLIC_URL's host when unset. */
  @IsOptional()
  @IsString()
  WEBAUTHN_RP_ID?: string;

  /** How long an approved deploy may start its steps; an approver may extend it. */
  @WholeNumber({ min: 1 })
  DEPLOY_APPROVAL_WINDOW_MINUTES = 15;

  /** How long a deploy approval request waits for its decision before it expires. */
  @WholeNumber({ min: 1 })
  DEPLOY_APPROVAL_PENDING_MINUTES = 60;

  @IsOptional()
  @IsJSON({ message: 'DEPLOY_APPROVAL_POLICIES must be JSON: {"<app or *>": {"approvers": 2, "commands": ["bin/migrate"]}}' })
  DEPLOY_APPROVAL_POLICIES?: string;

  @WholeNumber({ min: 1 })
  RATE_LIMIT_AUTH_FAILURES_PER_MINUTE = 20;

  @WholeNumber({ min: 1 })
  RATE_LIMIT_SIGN_INS_PER_MINUTE = 10;

  @WholeNumber({ min: 1 })
  RATE_LIMIT_IP_PER_MINUTE = 6000;

  @WholeNumber({ min: 1 })
  RATE_LIMIT_READS_PER_MINUTE = 1200;

  @WholeNumber({ min: 1 })
  RATE_LIMIT_WRITES_PER_MINUTE = 120;

  @WholeNumber({ min: 1 })
  RATE_LIMIT_STREAMS_PER_MINUTE = 60;

  @WholeNumber({ min: 1 })
  RATE_LIMIT_UPLOADS_PER_MINUTE = 30;

  /** Where notices (deploy approvals) are POSTed. A credential, as Slack's URLs are: the message never echoes it. */
  @IsOptional()
  @IsUrl(
    { require_tld: false, require_protocol: true, protocols: ['http', 'https'] },
    { message: 'NOTIFICATION_WEBHOOK_URL must be an http:// or https:// URL' },
  )
  NOTIFICATION_WEBHOOK_URL?: string;

  /** Retries of a delivery the receiver refused or never answered, each after a longer wait than the last. */
  @WholeNumber({ min: 0 })
  NOTIFICATION_RETRY_LIMIT = 10;

  @WholeNumber({ min: 1 })
  NOTIFICATION_RETRY_DELAY_SECONDS = 30;
}

export class InvalidConfigurationError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
  }
}

/** Validates the raw environment, collecting every problem rather than stopping at the first. */
export function parseEnvironment(raw: Record<string, string | undefined>): EnvironmentVariables {
  const present = Object.fromEntries(Object.entries(raw).filter(([, value]) => value !== undefined && value !== ''));
  const env = plainToInstance(EnvironmentVariables, present, { exposeDefaultValues: true });
  const errors = validateSync(env, { skipMissingProperties: false });
  if (errors.length > 0) {
    throw new InvalidConfigurationError(
      errors.map((error) => {
        const constraints = error.constraints ?? {};
        // A missing variable gets the one message that says what it is for, not every rule it fails.
        const messages = error.value === undefined && constraints.isNotEmpty ? [constraints.isNotEmpty] : Object.values(constraints);
        return `${error.property}: ${[...new Set(messages)].join('; ')}`;
      }),
    );
  }
  return env;
}

/** What a hidden value looks like. Posted back unchanged in `env=`, it means "keep the current value". */
export const MASK = '********';

/** Key names that hold secrets by default; configuration adds more (SECRET_ENV_KEY_PATTERNS). */
const DEFAULT_SECRET_KEY_PARTS = ['SECRET', 'TOKEN', 'PASSWORD', 'PASSWD', 'KEY', 'CREDENTIAL', 'PRIVATE', 'DATABASE_URL'];

/** A URL carrying a password (`scheme://user:pass@host`), whatever its key is called. */
const URL_WITH_CREDENTIALS = /^[a-z][a-z0-9+.-]*:\/\/[^/\s:@]*:[^/\s@]+@/i;

export class SecretRule {
  private readonly parts: readonly string[];

  constructor(extraKeyParts: readonly string[] = []) {
    this.parts = [...DEFAULT_SECRET_KEY_PARTS, ...extraKeyParts.map((part) => part.toUpperCase())];
  }

  isSecret(key: string, value: string): boolean {
    const upper = key.toUpperCase();
    return this.parts.some((part) => upper.includes(part)) || URL_WITH_CREDENTIALS.test(value);
  }
}

/** The rack's env format: sorted, newline-joined `KEY=VALUE` lines (pkg/structs/environment.go). */
export function parseEnv(env: string): Map<string, string> {
  const entries = new Map<string, string>();
  for (const line of env.split('\n')) {
    if (!line) continue;
    const separator = line.indexOf('=');
    if (separator <= 0) continue;
    entries.set(line.slice(0, separator), line.slice(separator + 1));
  }
  return entries;
}

export function formatEnv(entries: ReadonlyMap<string, string>): string {
  return [...entries]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, value]) => `${key}=${value}`)
    .join('\n');
}

/** `all` hides every value (no env read); `secrets` only the secret ones (env read, no secret read). */
export type EnvMasking = 'none' | 'secrets' | 'all';

export function maskEnv(env: string, masking: EnvMasking, rule: SecretRule): string {
  if (masking === 'none') return env;
  const entries = parseEnv(env);
  for (const [key, value] of entries) {
    if (masking === 'all' || rule.isSecret(key, value)) entries.set(key, MASK);
  }
  return formatEnv(entries);
}

/** Masks the values of secret-looking keys in a parameter map (app, resource parameters). */
export function maskParameters(parameters: unknown, rule: SecretRule): unknown {
  if (!parameters || typeof parameters !== 'object' || Array.isArray(parameters)) return parameters;
  return Object.fromEntries(
    Object.entries(parameters as Record<string, unknown>).map(([key, value]) => [
      key,
      typeof value === 'string' && rule.isSecret(key, value) ? MASK : value,
    ]),
  );
}

const URL_PASSWORD_ANYWHERE = /([a-z][a-z0-9+.-]*:\/\/[^/\s:@]*:)[^/\s@]+@/gi;
const ASSIGNMENT = /\b([A-Za-z_][A-Za-z0-9_]*)=(\S+)/g;
const GATEWAY_TOKEN = /\brgw_[A-Za-z0-9_-]{20,}/g;

/**
 * Masks what looks secret in free text a person typed (a command line): passwords in URLs,
 * `NAME=value` where the name is a secret's, and gateway tokens. For records, not for answers.
 */
export function maskSecretsInText(text: string, rule: SecretRule): string {
  return text
    .replace(URL_PASSWORD_ANYWHERE, `$1${MASK}@`)
    .replace(ASSIGNMENT, (assignment, key: string, value: string) => (rule.isSecret(key, value) ? `${key}=${MASK}` : assignment))
    .replace(GATEWAY_TOKEN, MASK);
}

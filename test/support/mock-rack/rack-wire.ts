import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';

import { goMap, type StringMap } from './rack-structs';

/**
 * The byte-level response shapes of convox/stdapi and Go's net/http, so the gateway under test sees exactly
 * what a real v3 rack sends.
 */

/** A handler error that stdapi renders with its own status (structs.Err* and stdapi.Errorf). */
export class RackError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'RackError';
  }
}

export const notFound = (message: string): RackError => new RackError(404, message);
export const badRequest = (message: string): RackError => new RackError(400, message);
export const conflict = (message: string): RackError => new RackError(409, message);

/** Exec and instance shell end with this marker; the CLI parses the rest of the frame as the exit code. */
export const EXIT_MARKER_PREFIX = 'F1E49A85-0AD7-4AEF-A618-C249C6E6568D:';

export const GO_ZERO_TIME = '0001-01-01T00:00:00Z';

const GO_JSON_ESCAPES: StringMap = { '<': '\\u003c', '>': '\\u003e', '&': '\\u0026', '\u2028': '\\u2028', '\u2029': '\\u2029' };

/**
 * Go's encoding/json escapes `<`, `>`, `&`, U+2028 and U+2029 inside strings (a DATABASE_URL with `&` shows up
 * as `\u0026`). Those characters can only occur inside strings in JSON text, so a global replace is exact.
 */
export function encodeGoJson(value: unknown, pretty: boolean): string {
  const text = pretty ? JSON.stringify(value, null, 2) : JSON.stringify(value);
  return text.replace(/[<>&\u2028\u2029]/g, (char) => GO_JSON_ESCAPES[char] ?? char);
}

/** Go's time.Time marshals as RFC 3339; the rack's k8s objects only keep whole seconds. */
export function formatGoTime(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** stdapi's request id: 12 hex characters, on every routed response. */
export function newRequestId(): string {
  return randomBytes(6).toString('hex');
}

/** stdapi RenderJSON: 2-space MarshalIndent plus a newline. */
export function writeJson(response: ServerResponse, value: unknown): void {
  response.setHeader('Content-Type', 'application/json');
  writeBody(response, 200, `${encodeGoJson(value, true)}\n`);
}

/** stdapi RenderOK writes `ok\n` without a content type, which Go's sniffing turns into text/plain. */
export function writeOk(response: ServerResponse): void {
  writeText(response, 200, 'ok\n');
}

export function writeText(response: ServerResponse, status: number, text: string): void {
  response.setHeader('Content-Type', 'text/plain; charset=utf-8');
  writeBody(response, status, text);
}

export function writeEmpty(response: ServerResponse, status: number): void {
  writeBody(response, status, '');
}

/** One write with a Content-Length, as Go's server does for any body that fits its buffer. */
export function writeBody(response: ServerResponse, status: number, body: string | Buffer): void {
  response.statusCode = status;
  response.setHeader('Content-Length', Buffer.byteLength(body));
  // A HEAD answer keeps the length of the body it would have had, and keeps the connection alive.
  if (response.req.method === 'HEAD') response.end();
  else response.end(body);
}

/** stdapi's acceptsJSON: any comma-separated media type exactly `application/json`. */
export function acceptsJson(accept: string | undefined): boolean {
  if (!accept) return false;
  return accept.split(',').some((part) => part.split(';', 1)[0].trim() === 'application/json');
}

/**
 * stdapi writeErrorResponse: `{"error":msg}\n` (json.Encoder, compact) for JSON clients, otherwise Go's
 * http.Error, which also forces nosniff and drops any Content-Length.
 */
export function writeError(response: ServerResponse, accept: string | undefined, status: number, message: string): void {
  if (acceptsJson(accept)) {
    response.setHeader('Content-Type', 'application/json');
    writeBody(response, status, `${encodeGoJson({ error: message }, false)}\n`);
    return;
  }
  response.removeHeader('Content-Length');
  response.setHeader('X-Content-Type-Options', 'nosniff');
  writeText(response, status, `${message}\n`);
}

/** A subset of Go's http.DetectContentType, enough for the bodies this mock streams. */
export function sniffContentType(head: Buffer): string {
  if (head.length >= 3 && head[0] === 0x1f && head[1] === 0x8b && head[2] === 0x08) return 'application/x-gzip';
  const binary = head
    .subarray(0, 512)
    .some((byte) => byte <= 0x08 || byte === 0x0b || (byte >= 0x0e && byte <= 0x1a) || (byte >= 0x1c && byte <= 0x1f));
  return binary ? 'application/octet-stream' : 'text/plain; charset=utf-8';
}

export interface BasicCredentials {
  username: string;
  password: string;
}

/** net/http Request.BasicAuth: case-insensitive scheme, strict padded base64, split at the first colon. */
export function parseBasicAuth(header: string | undefined): BasicCredentials | null {
  if (!header || header.length < 6 || header.slice(0, 6).toLowerCase() !== 'basic ') return null;
  const encoded = header.slice(6);
  if (encoded.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(encoded)) return null;
  const decoded = Buffer.from(encoded, 'base64').toString('latin1');
  const colon = decoded.indexOf(':');
  if (colon < 0) return null;
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/** Comparing digests keeps the comparison constant-time even when the lengths differ. */
export function passwordMatches(expected: string, given: string): boolean {
  const digest = (value: string): Buffer => createHash('sha256').update(value, 'latin1').digest();
  return timingSafeEqual(digest(expected), digest(given));
}

export type AuthenticationResult = { authenticated: true; actor: string } | { authenticated: false; message: string; challenge: boolean };

/**
 * pkg/api authenticate: the user name is ignored except `jwt` (this mock mints no JWTs, so those always fail
 * verification); an empty rack password accepts anything. The actor mirrors the rack's audit actor.
 */
export function authenticate(headers: IncomingHttpHeaders, password: string): AuthenticationResult {
  const credentials = parseBasicAuth(headers.authorization);
  if (credentials?.username === 'jwt') {
    return { authenticated: false, message: 'invalid authentication: token is malformed', challenge: false };
  }
  if (password !== '' && !passwordMatches(password, credentials?.password ?? '')) {
    return { authenticated: false, message: 'invalid authentication', challenge: true };
  }
  const actor = firstHeader(headers['convox-actor']).trim() || firstHeader(headers['x-convox-actor']).trim() || 'rack-password';
  return { authenticated: true, actor };
}

export function firstHeader(value: string | string[] | undefined): string {
  if (Array.isArray(value)) return value[0] ?? '';
  return value ?? '';
}

/** strconv.ParseBool, which stdapi uses for `header:`/`param:` booleans. */
export function parseGoBool(value: string): boolean {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(value)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(value)) return false;
  throw new RackError(500, `strconv.ParseBool: parsing ${JSON.stringify(value)}: invalid syntax`);
}

export function parseGoInt(value: string): number {
  if (!/^[+-]?\d+$/.test(value)) throw new RackError(500, `strconv.Atoi: parsing ${JSON.stringify(value)}: invalid syntax`);
  return Number.parseInt(value, 10);
}

const GO_DURATION_UNITS_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, μs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** time.ParseDuration (`2m0s`, `5s`, `1h30m`), returned in milliseconds. */
export function parseGoDuration(value: string): number {
  const invalid = new RackError(500, `time: invalid duration ${JSON.stringify(value)}`);
  const sign = value.startsWith('-') ? -1 : 1;
  const body = value.replace(/^[-+]/, '');
  if (body === '0') return 0;
  if (body === '') throw invalid;
  const component = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/y;
  let total = 0;
  while (component.lastIndex < body.length) {
    const match = component.exec(body);
    if (!match) throw invalid;
    total += Number.parseFloat(match[1]) * GO_DURATION_UNITS_MS[match[2]];
  }
  return sign * total;
}

/** stdsdk sends `map[string]string` options as one url-encoded value (`k=v&k2=v2`), even inside a form. */
export function decodeEncodedMap(value: string): StringMap {
  const decoded = new Map<string, string>();
  for (const [key, item] of new URLSearchParams(value)) if (!decoded.has(key)) decoded.set(key, item);
  return goMap(Object.fromEntries(decoded));
}

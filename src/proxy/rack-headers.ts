import type { IncomingHttpHeaders } from 'node:http';

/** Hop-by-hop headers (RFC 9110 §7.6.1) and their common non-standard kin: never forwarded. */
const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-connection', 'proxy-authorization', 'te', 'trailer', 'upgrade', 'expect'];

/**
 * Response headers that describe the rack's connection to us, not ours to the client. The rack's
 * Strict-Transport-Security is its host's policy; the gateway's host has its own (bootstrap), which a
 * rack's `max-age=0` must not cancel.
 */
const HOP_BY_HOP_RESPONSE = ['keep-alive', 'proxy-connection', 'proxy-authenticate', 'trailer', 'upgrade', 'strict-transport-security'];

/**
 * Headers a client must not be able to send to the rack through the gateway: its cookies, the rack's
 * audit actor (the gateway sets it), tenant id (it re-targets namespaces), second factors, claims about the client's
 * address the gateway has not checked (it sits behind no trusted proxy it knows of), and method overrides. Its Authorization is replaced by the rack's.
 */
const CLIENT_ONLY = [
  'cookie',
  'origin',
  'convox-actor',
  'x-convox-actor',
  'convox-tid',
  'x-convox-tid',
  'forwarded',
  'x-real-ip',
  'x-client-ip',
  'x-http-method-override',
  'x-http-method',
  'x-method-override',
  // Only meaningful to an h2c upgrade, which the gateway never makes.
  'http2-settings',
  // Second factors and the session's CSRF token are the gateway's, spent or checked here.
  'x-mfa-totp',
  'x-mfa-webauthn',
  'x-csrf-token',
];
const FORWARDED_PREFIX = 'x-forwarded-';

/**
 * Headers that `Connection` may not remove: the body's framing (as the gateway read it, so the rack must
 * read it the same way), its type (the gateway may have read the body as a form) and the target host.
 */
const NOT_NOMINATABLE = new Set(['content-length', 'transfer-encoding', 'content-type', 'host']);

/**
 * Rewrites an incoming request's headers in place for the rack: strips what must not pass, then sets
 * the rack's credentials and the authenticated actor. In place, because this runs on every request;
 * headers are deleted only when present, since deleting a property sends V8's object to its slow
 * dictionary form, which every later read of the headers then pays for.
 */
export function prepareRackRequestHeaders(
  headers: IncomingHttpHeaders,
  { authorization, actor, upgrade }: { authorization: string; actor: string; upgrade: boolean },
): void {
  const connection = headers.connection;
  if (connection && !upgrade) {
    for (const listed of connection.split(',')) {
      const name = listed.trim().toLowerCase();
      if (!NOT_NOMINATABLE.has(name)) deleteIfPresent(headers, name);
    }
  }
  for (const name of CLIENT_ONLY) deleteIfPresent(headers, name);
  for (const name in headers) if (name.startsWith(FORWARDED_PREFIX)) delete headers[name];
  if (!upgrade) for (const name of HOP_BY_HOP) deleteIfPresent(headers, name);
  // The client's own credential is overwritten rather than deleted: it never reaches the rack either way.
  headers.authorization = authorization;
  headers['convox-actor'] = actor;
}

/** Strips a rack answer's hop-by-hop headers in place, before http-proxy copies the rest to the client. */
export function stripRackResponseHeaders(headers: IncomingHttpHeaders): void {
  for (const name of HOP_BY_HOP_RESPONSE) deleteIfPresent(headers, name);
}

function deleteIfPresent(headers: IncomingHttpHeaders, name: string): void {
  if (headers[name] !== undefined) delete headers[name];
}

import type { IncomingHttpHeaders } from 'node:http';

/** Hop-by-hop headers (RFC 9110 §7.6.1) and their common non-standard kin: never forwarded. */
const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-connection', 'proxy-authorization', 'te', 'trailer', 'upgrade', 'expect'];

/**
 * Headers a client must not be able to send to the rack through the gateway: its own credentials and
 * cookies, the rack's audit actor (the gateway sets it) and tenant id (it re-targets namespaces).
 */
const CLIENT_ONLY = ['authorization', 'cookie', 'origin', 'convox-actor', 'x-convox-actor', 'convox-tid', 'x-convox-tid'];

/**
 * Rewrites an incoming request's headers in place for the rack: strips what must not pass, then adds
 * the rack's credentials and the authenticated actor. In place, because this runs on every request.
 */
export function prepareRackRequestHeaders(
  headers: IncomingHttpHeaders,
  { authorization, actor, upgrade }: { authorization: string; actor: string; upgrade: boolean },
): void {
  const connection = headers.connection;
  if (connection && !upgrade) {
    for (const listed of connection.split(',')) delete headers[listed.trim().toLowerCase()];
  }
  for (const name of CLIENT_ONLY) delete headers[name];
  if (!upgrade) for (const name of HOP_BY_HOP) delete headers[name];
  headers.authorization = authorization;
  headers['convox-actor'] = actor;
}

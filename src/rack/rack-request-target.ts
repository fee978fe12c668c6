import type { IncomingHttpHeaders } from 'node:http';

/**
 * A rack request as the rack itself will read it. The rack's router (gorilla/mux in stdapi, no
 * `UseEncodedPath`, `SkipClean`) matches Go's decoded `URL.Path`: `%2F` becomes `/`, dot segments
 * stay. The gateway therefore decides on that decoded path and forwards exactly it, never a re-parse
 * of what the client sent.
 */
export interface RackRequestTarget {
  /** The decoded path the rack's router will match; also what is forwarded, byte for byte. */
  readonly path: string;
  /** The raw query after `?`, or null when the target had no `?` (the convox CLI always sends one). */
  readonly query: string | null;
}

export type RackRequestReading =
  { readonly ok: true; readonly target: RackRequestTarget } | { readonly ok: false; readonly reason: string };

/**
 * Characters allowed raw in a path: RFC 3986 `pchar`s, `/` and `%`. Everything else (`\`, `#`, quotes,
 * brackets, spaces, controls, non-ASCII) is read differently by Node's legacy URL parser, WHATWG URLs and
 * Go, so it is refused rather than guessed at.
 */
const RAW_PATH = /^[A-Za-z0-9\-._~!$&'()*+,;=:@/%]*$/;
/** What a percent-escape may decode to: a `pchar` other than `/` and `%`, so decoding is final and one-to-one. */
const DECODED_CHARACTER = /^[A-Za-z0-9\-._~!$&'()*+,;=:@]$/;
const PERCENT_ESCAPE = /%([0-9A-Fa-f]{2})/g;
const MALFORMED_ESCAPE = /%(?![0-9A-Fa-f]{2})/;
/** A query is passed on raw: printable ASCII only, and no fragment. */
const RAW_QUERY = /^[\x21-\x22\x24-\x7e]*$/;
/**
 * http-proxy joins the outgoing path with `.replace('http:/', 'http://')` (lib/http-proxy/common.js
 * urlJoin): a segment ending in `http:` would reach the rack with an extra slash. Never legitimate.
 */
const SCHEME_LOOKALIKE = /https?:\//i;

/** Reads a request's framing and target as the rack will; see `readRackRequestTarget`. */
export function readRackRequest(method: string, url: string, headers: IncomingHttpHeaders): RackRequestReading {
  const framingError = framingProblem(method, headers);
  return framingError ? { ok: false, reason: `invalid request: ${framingError}` } : readRackRequestTarget(url);
}

/** Framing the rack reads differently from Node, or that http-proxy rewrites. */
function framingProblem(method: string, headers: IncomingHttpHeaders): string | undefined {
  const transferEncoding = headers['transfer-encoding'];
  if (transferEncoding === undefined) return undefined;
  // Go's server accepts `chunked` alone; Node accepts codings before it. Agree on the one both read.
  if (transferEncoding.trim().toLowerCase() !== 'chunked') return `unsupported Transfer-Encoding: ${transferEncoding}`;
  // http-proxy sends DELETE and OPTIONS without a Content-Length as `Content-Length: 0` yet still pipes
  // the body, which the rack would read as the next request on a pooled socket.
  if (method === 'DELETE' || method === 'OPTIONS') return `a ${method} body must declare its Content-Length`;
  return undefined;
}

/**
 * Parses a request target once, into the path the rack's router will match. Anything that could be
 * read two ways is refused: absolute-form and `*` targets, backslashes and fragments, encoded `/`, `\`,
 * `%`, `?` or `#`, control and non-ASCII bytes, empty and dot segments.
 */
export function readRackRequestTarget(url: string): RackRequestReading {
  if (url.charCodeAt(0) !== 0x2f /* / */) return refuse('the request target must be an absolute path');
  const queryStart = url.indexOf('?');
  const rawPath = queryStart < 0 ? url : url.slice(0, queryStart);
  const query = queryStart < 0 ? null : url.slice(queryStart + 1);

  if (!RAW_PATH.test(rawPath)) return refuse('the path holds a character the gateway does not accept');
  let path = rawPath;
  if (rawPath.includes('%')) {
    if (MALFORMED_ESCAPE.test(rawPath)) return refuse('the path holds a malformed percent-escape');
    let undecodable = false;
    path = rawPath.replace(PERCENT_ESCAPE, (_escape, hex: string) => {
      const character = String.fromCharCode(Number.parseInt(hex, 16));
      if (!DECODED_CHARACTER.test(character)) undecodable = true;
      return character;
    });
    if (undecodable) return refuse('the path holds an encoded character the gateway does not accept');
  }
  const segmentError = segmentProblem(path);
  if (segmentError) return refuse(segmentError);
  if (SCHEME_LOOKALIKE.test(path)) return refuse('the path holds a URL scheme');
  if (query !== null && !RAW_QUERY.test(query)) return refuse('the query holds a character the gateway does not accept');
  return { ok: true, target: { path, query } };
}

/** The request target the gateway sends the rack: the decoded path, then the query as received. */
export function rackRequestTargetUrl(target: RackRequestTarget, basePath: string): string {
  return target.query === null ? `${basePath}${target.path}` : `${basePath}${target.path}?${target.query}`;
}

function segmentProblem(path: string): string | undefined {
  const segments = path.split('/');
  const last = segments.length - 1;
  for (let index = 1; index <= last; index += 1) {
    const segment = segments[index];
    // A trailing slash is a route of its own to the rack (`/v2/`); an empty segment elsewhere is not.
    if (segment === '' && index < last) return 'the path holds an empty segment';
    if (segment === '.' || segment === '..') return 'the path holds a dot segment';
  }
  return undefined;
}

function refuse(reason: string): RackRequestReading {
  return { ok: false, reason: `invalid request target: ${reason}` };
}

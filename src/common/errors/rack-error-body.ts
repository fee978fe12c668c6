import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';

export interface RackErrorBody {
  readonly headers: OutgoingHttpHeaders;
  readonly body: string;
}

/**
 * An error in the rack's own shape (convox-api.md §5), so the convox CLI prints `ERROR: <message>`:
 * JSON `{"error": msg}` when the client accepts JSON, otherwise Go's plain `msg\n`. A 404 keeps its body
 * empty, since the CLI detects unsupported features by `response status 404`.
 */
export function rackErrorBody(status: number, message: string, requestHeaders: IncomingHttpHeaders): RackErrorBody {
  if (status === 404) return { headers: { 'content-length': '0' }, body: '' };
  if (requestHeaders.accept?.includes('application/json')) {
    const body = JSON.stringify({ error: message });
    return { headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }, body };
  }
  const body = `${message}\n`;
  return {
    headers: {
      'content-type': 'text/plain; charset=utf-8',
      'x-content-type-options': 'nosniff',
      'content-length': Buffer.byteLength(body),
    },
    body,
  };
}

/** Proxied paths challenge for Basic, which is how the convox CLI sends its token. */
export const BASIC_CHALLENGE = 'Basic realm="Rack Gateway"';

import type { IncomingMessage, ServerResponse } from 'node:http';

/** A response decided by an endpoint, written in one place so the journal records its status. */
export interface Answer {
  status: number;
  headers?: Record<string, string>;
  body?: string;
}

export const jsonAnswer = (status: number, body: object, headers: Record<string, string> = {}): Answer => ({
  status,
  headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
  body: JSON.stringify(body),
});

// Google answers a malformed authorization request with an error page for the person, not a redirect.
export const errorPage = (status: number, error: string, description: string): Answer => ({
  status,
  headers: { 'content-type': 'text/plain; charset=utf-8' },
  body: `Error ${status}: ${error}\n${description}\n`,
});

export const redirectAnswer = (location: string): Answer => ({ status: 302, headers: { location } });

export function writeAnswer(res: ServerResponse, answer: Answer): void {
  res.writeHead(answer.status, answer.headers);
  res.end(answer.body);
}

/** Query or form parameters: first value of each, plus the names sent more than once. */
export interface Params {
  values: Record<string, string>;
  repeated: string[];
}

/** Params.values read honestly: any name may be absent. */
export type ParamLookup = Partial<Record<string, string>>;

// RFC 6749 section 3.1: parameters must not repeat; rejecting repeats keeps a test from passing on
// whichever copy the mock happened to read.
export function parseParams(search: URLSearchParams): Params {
  const values = new Map<string, string>();
  const repeated = new Set<string>();
  for (const [name, value] of search) {
    if (values.has(name)) repeated.add(name);
    else values.set(name, value);
  }
  // fromEntries defines own properties, so a parameter named __proto__ stays a plain key.
  return { values: Object.fromEntries(values), repeated: [...repeated] };
}

/** The body as text, or undefined past the limit (still drained, so the answer can be written). */
export async function readBody(req: IncomingMessage, limitBytes: number): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<unknown>) {
    const piece = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += piece.length;
    if (size <= limitBytes) chunks.push(piece);
  }
  return size <= limitBytes ? Buffer.concat(chunks).toString('utf8') : undefined;
}

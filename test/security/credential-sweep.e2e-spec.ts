import { randomBytes } from 'node:crypto';
import { request, type IncomingHttpHeaders, type OutgoingHttpHeaders, type ServerResponse } from 'node:http';
import { ScriptedRack, startScriptedRack } from '../support/scripted-rack';
import { TestGateway, basicAuth, startTestGateway } from '../support/test-gateway';

/**
 * Random, so nothing else in an answer matches it by chance; the `$+` tail makes its URL-encoded form
 * differ from the raw one (and is valid in a URL's userinfo and in a header), so both forms are tested.
 */
const RACK_RANDOM_PART = randomBytes(16).toString('hex');
const RACK_PASSWORD = `rack-pass-${RACK_RANDOM_PART}$+`;
const URL_ENCODED = encodeURIComponent(RACK_PASSWORD);
const BASIC_CREDENTIAL = Buffer.from(`convox:${RACK_PASSWORD}`).toString('base64');
/** Every form the gateway promises to catch, and the random part, which survives any textual re-encoding. */
const CREDENTIAL_FORMS: Record<string, string> = {
  raw: RACK_PASSWORD,
  'URL-encoded': URL_ENCODED,
  'Basic base64': BASIC_CREDENTIAL,
  'random part': RACK_RANDOM_PART,
};
const MASK = '********';

const TARBALL = '/apps/myapp/builds/B1.tgz';
const BUILD = '/apps/myapp/builds/B1';
const RELEASES = '/apps/myapp/releases';

/** A client's view of an answer; `everything` is its status line, headers and trailers as sent, and body bytes. */
interface ReceivedAnswer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  readonly everything: string;
}

describe('rack credential never leaves', () => {
  let rack: ScriptedRack;
  let gateway: TestGateway;
  let viewer: string;
  let admin: string;

  beforeAll(async () => {
    rack = await startScriptedRack(RACK_PASSWORD);
    gateway = await startTestGateway({ rackUrl: rack.url, rackToken: RACK_PASSWORD });
    ({ token: viewer } = await gateway.createUserWithToken('viewer@example.com', 'viewer'));
    ({ token: admin } = await gateway.createUserWithToken('admin@example.com', 'admin'));
  });

  afterAll(async () => {
    try {
      expect(credentialFormsIn(gateway.logs.text())).toEqual([]);
    } finally {
      await gateway.close();
      await rack.close();
    }
  });

  beforeEach(() => rack.reset());

  function expectRackAsked(path: string, actor: string): void {
    expect(rack.requests).toHaveLength(1);
    expect(rack.requests[0]).toMatchObject({
      method: 'GET',
      url: path,
      headers: { authorization: basicAuth(RACK_PASSWORD), 'convox-actor': actor },
    });
  }

  describe.each([
    ['a streamed', TARBALL, 'tarball bytes'],
    ['a rewritten', RELEASES, '[]\n'],
  ])('in the headers of %s answer', (_kind, path, body) => {
    const rackUrlWith = (password: string) => `https://convox:${password}@api.rack/x`;
    it.each<[string, number, OutgoingHttpHeaders, IncomingHttpHeaders]>([
      ['a Location header', 302, { location: rackUrlWith(RACK_PASSWORD) }, { location: rackUrlWith(MASK) }],
      ['a URL-encoded Location header', 302, { location: rackUrlWith(URL_ENCODED) }, { location: rackUrlWith(MASK) }],
      ['an X-Debug header', 200, { 'x-debug': `password=${RACK_PASSWORD}` }, { 'x-debug': `password=${MASK}` }],
      [
        'one of several Set-Cookie headers',
        200,
        { 'set-cookie': [`rack=${RACK_PASSWORD}`, 'a=b'] },
        { 'set-cookie': [`rack=${MASK}`, 'a=b'] },
      ],
      ['a header in Basic form', 200, { 'x-upstream-auth': `Basic ${BASIC_CREDENTIAL}` }, { 'x-upstream-auth': `Basic ${MASK}` }],
      ['a header holding the bare base64 credential', 200, { 'x-credential': BASIC_CREDENTIAL }, { 'x-credential': MASK }],
    ])('masks the password echoed in %s', async (_label, status, echoed, masked) => {
      rack.setHandler((_request, response) => response.writeHead(status, { 'content-type': 'application/json', ...echoed }).end(body));

      const answer = await receiveEverything(`${gateway.url}${path}`, viewer);

      expect(answer.status).toBe(status);
      expect(answer.headers).toMatchObject(masked);
      expect(answer.body.toString('utf8')).toBe(body);
      expect(credentialFormsIn(answer.everything)).toEqual([]);
      expectRackAsked(path, 'viewer@example.com');
    });

    // The promise covers every byte a client receives, not only header values.
    it.each<[string, (response: ServerResponse) => void]>([
      [
        "the status line's reason phrase",
        (response) => response.writeHead(200, `OK for ${RACK_PASSWORD}`, { 'content-type': 'application/json' }),
      ],
      ["a header's name", (response) => response.writeHead(200, { 'content-type': 'application/json', [`x-${RACK_PASSWORD}`]: 'set' })],
    ])('never sends the password echoed in %s', async (_label, writeHead) => {
      rack.setHandler((_request, response) => {
        writeHead(response);
        response.end(body);
      });

      const answer = await receiveEverything(`${gateway.url}${path}`, viewer);

      expect(answer.status).toBe(200);
      expect(answer.body.toString('utf8')).toBe(body);
      expect(credentialFormsIn(answer.everything)).toEqual([]);
      expectRackAsked(path, 'viewer@example.com');
    });
  });

  it('rewrites a build answer (read for every role) so neither its repository nor any other field carries the password', async () => {
    const build = {
      id: 'B1',
      app: 'myapp',
      status: 'complete',
      repository: `https://convox:${RACK_PASSWORD}@api.rack/myapp`,
      description: BASIC_CREDENTIAL,
      manifest: `# pushed with Authorization: Basic ${BASIC_CREDENTIAL}`,
      logs: `https://convox:${URL_ENCODED}@api.rack/logs`,
    };
    // JSON may escape any character (Go's encoder escapes &, < and >); what a client parses is what counts.
    const escapedReason = `"reason":"\\u0072${RACK_PASSWORD.slice(1)}"`;
    const json = JSON.stringify(build);
    rack.setHandler((_request, response) =>
      response.writeHead(200, { 'content-type': 'application/json' }).end(`${json.slice(0, -1)},${escapedReason}}`),
    );

    const answer = await receiveEverything(`${gateway.url}${BUILD}`, viewer);

    expect(answer.status).toBe(200);
    expect(credentialFormsIn(answer.everything)).toEqual([]);
    const rewritten = JSON.parse(answer.body.toString('utf8')) as Record<string, string>;
    const repository = new URL(rewritten.repository ?? '');
    expect(repository.host).toBe(new URL(gateway.url).host);
    expect(repository.password).toBe('');
    expect(rewritten).toMatchObject({
      id: 'B1',
      description: MASK,
      manifest: `# pushed with Authorization: Basic ${MASK}`,
      logs: `https://convox:${MASK}@api.rack/logs`,
      reason: MASK,
    });
    expectRackAsked(BUILD, 'viewer@example.com');
  });

  it("masks the password in every form in a viewer's rewritten release list, outside the env as well as in it", async () => {
    const releases = [
      {
        app: 'myapp',
        id: 'R1',
        env: `RACK_URL=https://convox:${RACK_PASSWORD}@api.rack`,
        description: `deployed via https://convox:${URL_ENCODED}@api.rack`,
        manifest: `token: ${BASIC_CREDENTIAL}`,
      },
    ];
    rack.setHandler((_request, response) => response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(releases)));

    const answer = await receiveEverything(`${gateway.url}${RELEASES}`, viewer);

    expect(answer.status).toBe(200);
    expect(credentialFormsIn(answer.everything)).toEqual([]);
    expect(JSON.parse(answer.body.toString('utf8'))).toEqual([
      {
        app: 'myapp',
        id: 'R1',
        env: `RACK_URL=${MASK}`,
        description: `deployed via https://convox:${MASK}@api.rack`,
        manifest: `token: ${MASK}`,
      },
    ]);
    expectRackAsked(RELEASES, 'viewer@example.com');
  });

  it('sweeps an error answer on a rewritten route, which is read but not parsed', async () => {
    rack.setHandler((_request, response) =>
      response
        .writeHead(500, { 'content-type': 'application/json' })
        .end(JSON.stringify({ error: `registry login failed for convox:${RACK_PASSWORD} (${BASIC_CREDENTIAL}, ${URL_ENCODED})` })),
    );

    const answer = await receiveEverything(`${gateway.url}${BUILD}`, viewer);

    expect(answer.status).toBe(500);
    expect(credentialFormsIn(answer.everything)).toEqual([]);
    expect(JSON.parse(answer.body.toString('utf8'))).toEqual({ error: `registry login failed for convox:${MASK} (${MASK}, ${MASK})` });
    expectRackAsked(BUILD, 'viewer@example.com');
  });

  // A deliberate trade-off, not a bug: streamed bodies (tarballs, objects, logs; any answer the caller
  // needs no masking of) are neither buffered nor scanned, so a password inside one reaches the client.
  // Only their headers are swept. Should the gateway start scanning streams, this test must change.
  it.each([
    ["a build tarball's body", TARBALL, 'viewer'],
    ["an admin's release list (admins need no masking, so it streams)", RELEASES, 'admin'],
  ])('documented limit: %s is streamed unscanned, so a password inside it passes unchanged', async (_label, path, role) => {
    const body = Buffer.from(`repository=https://convox:${RACK_PASSWORD}@api.rack/myapp\n`);
    rack.setHandler((_request, response) =>
      response.writeHead(200, { 'content-type': 'application/octet-stream', 'x-debug': RACK_PASSWORD }).end(body),
    );

    const answer = await receiveEverything(`${gateway.url}${path}`, role === 'admin' ? admin : viewer);

    expect(answer.status).toBe(200);
    expect(answer.body.equals(body)).toBe(true);
    expect(answer.headers['x-debug']).toBe(MASK);
    expectRackAsked(path, `${role}@example.com`);
  });
});

function credentialFormsIn(text: string): string[] {
  return Object.entries(CREDENTIAL_FORMS)
    .filter(([, form]) => text.includes(form))
    .map(([name]) => name);
}

/** GETs `url` with `token` and keeps every byte of the answer a client could read a password from. */
function receiveEverything(url: string, token: string): Promise<ReceivedAnswer> {
  return new Promise((resolve, reject) => {
    const client = request(url, { headers: { authorization: basicAuth(token) } }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('error', reject);
      response.on('end', () => {
        const status = response.statusCode ?? 0;
        const statusLine = `HTTP/${response.httpVersion} ${status} ${response.statusMessage ?? ''}`;
        const body = Buffer.concat(chunks);
        // latin1 keeps every byte as one character, so an ASCII password matches wherever its bytes are.
        const everything = [statusLine, ...response.rawHeaders, ...response.rawTrailers, body.toString('latin1')].join('\n');
        resolve({ status, headers: response.headers, body, everything });
      });
    });
    client.on('error', reject);
    client.end();
  });
}

import { createHash, randomBytes } from 'node:crypto';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';

import WebSocket from 'ws';

import {
  BUILD_FAILURE_MARKER,
  EXIT_MARKER_PREFIX,
  INVALID_UTF8_BYTES,
  RACK_VERSION,
  SEED,
  SEED_ENV,
  startMockRack,
  type MockRack,
} from '../../support/mock-rack';

/** Proves the mock rack speaks the real v3 rack's wire protocol (see /work/shared/convox-api.md §0, §2, §5). */

interface RackResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  text: string;
}

interface ReceivedFrame {
  binary: boolean;
  data: Buffer;
}

interface SocketSession {
  ws: WebSocket;
  status: number;
  /** Every frame up to and including the empty binary EOF frame. */
  untilEof: Promise<ReceivedFrame[]>;
}

describe('mock rack', () => {
  let rack: MockRack;
  let authorization: string;

  beforeAll(async () => {
    rack = await startMockRack({ buildMs: 150, logIntervalMs: 50 });
    authorization = basic('convox', rack.password);
  });

  afterAll(async () => {
    await rack.close();
  });

  beforeEach(() => {
    rack.reset();
  });

  /** A raw node:http request, so bodies, chunking and headers are exactly what we say. */
  function send(
    method: string,
    path: string,
    options: { headers?: Record<string, string>; body?: Buffer | string | Buffer[]; auth?: boolean } = {},
  ): Promise<RackResponse> {
    const headers: Record<string, string> = { accept: '*/*', ...(options.auth === false ? {} : { authorization }), ...options.headers };
    // Like the Go SDK, in-memory bodies carry a Content-Length (node would not frame a GET body otherwise).
    if (options.body !== undefined && !Array.isArray(options.body)) headers['content-length'] ??= String(Buffer.byteLength(options.body));
    const { hostname, port } = new URL(rack.url);
    return new Promise((resolve, reject) => {
      // `path` goes out verbatim: a URL object would resolve `..` and `//` before the rack could see them.
      const outgoing = httpRequest({ hostname, port, path, method, headers }, (incoming) => {
        const chunks: Buffer[] = [];
        incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
        incoming.once('end', () => {
          const body = Buffer.concat(chunks);
          resolve({ status: incoming.statusCode ?? 0, headers: incoming.headers, body, text: body.toString('utf8') });
        });
        incoming.once('error', reject);
      });
      outgoing.once('error', reject);
      // An array of chunks goes out with Transfer-Encoding: chunked, as the CLI streams files and pipes.
      if (Array.isArray(options.body)) for (const chunk of options.body) outgoing.write(chunk);
      else if (options.body !== undefined) outgoing.write(options.body);
      outgoing.end();
    });
  }

  const form = (fields: Record<string, string>): { headers: Record<string, string>; body: string } => ({
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields).toString(),
  });

  const json = <T>(response: RackResponse): T => JSON.parse(response.text) as T;

  function openSocket(path: string, headers: Record<string, string> = {}): Promise<SocketSession> {
    const ws = new WebSocket(`${rack.url.replace(/^http/, 'ws')}${path}`, {
      headers: { authorization, origin: rack.url, ...headers },
      skipUTF8Validation: true,
      perMessageDeflate: false,
    });
    const frames: ReceivedFrame[] = [];
    const untilEof = new Promise<ReceivedFrame[]>((resolve, reject) => {
      ws.on('message', (data: WebSocket.RawData, binary: boolean) => {
        const frame = { binary, data: toBuffer(data) };
        frames.push(frame);
        if (binary && frame.data.length === 0) resolve(frames);
      });
      ws.once('close', () => reject(new Error(`socket closed before EOF after ${frames.length} frames`)));
    });
    untilEof.catch(() => undefined);
    return new Promise((resolve, reject) => {
      ws.once('upgrade', (response) => resolve({ ws, status: response.statusCode ?? 0, untilEof }));
      ws.once('unexpected-response', (_request, response) => reject(new Error(`handshake answered ${response.statusCode}`)));
      ws.once('error', reject);
    });
  }

  async function closeSocket(ws: WebSocket): Promise<void> {
    if (ws.readyState === WebSocket.CLOSED) return;
    const closed = new Promise((resolve) => ws.once('close', resolve));
    ws.close();
    await closed;
  }

  async function waitFor<T>(probe: () => Promise<T | undefined>, timeoutMs = 3000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await probe();
      if (value !== undefined) return value;
      if (Date.now() > deadline) throw new Error('condition not met in time');
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  describe('HTTP wire shapes', () => {
    it('answers GET /check without auth, and nothing else', async () => {
      const check = await send('GET', '/check', { auth: false });
      expect(check).toMatchObject({ status: 200, text: 'ok' });
      expect(check.headers['request-id']).toBeUndefined();

      const denied = await send('GET', '/apps?', { auth: false });
      expect(denied.status).toBe(401);
      expect(denied.text).toBe('invalid authentication\n');
      expect(denied.headers['www-authenticate']).toBe('Basic realm="convox"');
      expect(denied.headers['content-type']).toBe('text/plain; charset=utf-8');
      expect(denied.headers['x-content-type-options']).toBe('nosniff');
      expect(denied.headers['x-frame-options']).toBe('DENY');
    });

    it('accepts any user name with the rack password, and rejects a wrong password', async () => {
      expect((await send('GET', '/auth', { headers: { authorization: basic('anyone', rack.password) } })).text).toBe('ok\n');
      const wrong = await send('GET', '/apps', { headers: { authorization: basic('convox', 'nope'), accept: 'application/json' } });
      expect(wrong.status).toBe(401);
      expect(wrong.text).toBe('{"error":"invalid authentication"}\n');
      expect(wrong.headers['content-type']).toBe('application/json');
    });

    it('renders JSON like Go: 2-space indent, struct field order, trailing newline, HTML escapes', async () => {
      const apps = await send('GET', '/apps?');
      expect(apps.status).toBe(200);
      expect(apps.headers['content-type']).toBe('application/json');
      expect(apps.headers['request-id']).toMatch(/^[0-9a-f]{12}$/);
      expect(apps.text.startsWith('[\n  {\n    "generation": "2",\n    "locked": false,\n    "name": "myapp",\n')).toBe(true);
      expect(apps.text.endsWith('\n  }\n]\n')).toBe(true);
      expect(apps.text).toContain('"WebhookSecret": "whsec_mock_myapp_');

      const release = await send('GET', `/apps/myapp/releases/${SEED.apps.myapp.currentRelease}`);
      expect(release.text).toContain('sslmode=require\\u0026pool=5');
      expect(Object.keys(json<Record<string, unknown>>(release))).toEqual([
        'id',
        'app',
        'build',
        'env',
        'manifest',
        'description',
        'created',
      ]);

      const system = json<{ version: string; 'rack-domain': string }>(await send('GET', '/system'));
      expect(system.version).toBe(RACK_VERSION);

      const instances = json<Array<Record<string, unknown>>>(await send('GET', '/instances'));
      expect(instances[0]).toMatchObject({ 'private-ip': '10.0.1.10', status: 'running' });
    });

    it('renders errors as text, or as JSON when Accept asks for it', async () => {
      const text = await send('GET', '/apps/ghost');
      expect(text).toMatchObject({ status: 404, text: 'app not found: ghost\n' });
      expect(text.headers['content-type']).toBe('text/plain; charset=utf-8');

      const asJson = await send('GET', '/apps/ghost', { headers: { accept: 'text/html, application/json;q=0.9' } });
      expect(asJson).toMatchObject({ status: 404, text: '{"error":"app not found: ghost"}\n' });
      expect(asJson.headers['content-type']).toBe('application/json');
    });

    it('answers unknown routes, including the CLI probes, with an empty 404 and no rack headers', async () => {
      for (const path of ['/racks', '/machines', '/apps/myapp/nope', '/apps/']) {
        const response = await send('GET', path);
        expect({ path, status: response.status, body: response.text }).toEqual({ path, status: 404, body: '' });
        expect(response.headers['request-id']).toBeUndefined();
      }
      expect(await send('PATCH', '/apps')).toMatchObject({ status: 405, text: '' });
      // A websocket route without the upgrade is not a route at all.
      expect(await send('GET', '/apps/myapp/logs')).toMatchObject({ status: 404, text: '' });
    });

    it('does not clean paths: a doubled slash is a different, unknown route', async () => {
      expect((await send('GET', '//apps')).status).toBe(404);
      expect((await send('GET', '/apps/myapp/../otherapp')).status).toBe(404);
    });
  });

  describe('apps and parameters', () => {
    it('creates an app from a form body, then reports conflicts in the rack shape', async () => {
      const created = await send('POST', '/apps', form({ name: 'newapp', generation: '2' }));
      expect(created.status).toBe(200);
      expect(json(created)).toMatchObject({ name: 'newapp', generation: '2', status: 'creating', release: '', locked: false });
      await waitFor(async () => (json<{ status: string }>(await send('GET', '/apps/newapp')).status === 'running' ? true : undefined));

      expect(await send('POST', '/apps', form({ name: 'newapp' }))).toMatchObject({ status: 409, text: 'app already exists: newapp\n' });
    });

    it('decodes the double-encoded parameters map of PUT /apps/{name}', async () => {
      const parameters = new URLSearchParams({ Timeout: '120', 'Odd Key': 'a&b=c' }).toString();
      expect(await send('PUT', '/apps/myapp', form({ lock: 'true', parameters }))).toMatchObject({ status: 200, text: 'ok\n' });
      const app = rack.state().apps.find((candidate) => candidate.name === 'myapp');
      expect(app?.locked).toBe(true);
      expect(app?.parameters).toMatchObject({ Timeout: '120', 'Odd Key': 'a&b=c' });
      expect(await send('DELETE', '/apps/myapp')).toMatchObject({ status: 409, text: 'app is locked: myapp\n' });
    });
  });

  describe('objects', () => {
    it('streams a chunked multi-megabyte upload into a hash without keeping it', async () => {
      const chunks = Array.from({ length: 64 }, () => randomBytes(64 * 1024));
      const expected = createHash('sha256');
      for (const chunk of chunks) expected.update(chunk);
      const sha256 = expected.digest('hex');

      const response = await send('POST', '/apps/myapp/objects/tmp/0123456789abcdef0123456789abcd.tgz', {
        headers: { 'content-type': 'application/octet-stream' },
        body: chunks,
      });
      expect(response.status).toBe(200);
      expect(response.text).toBe('{\n  "Url": "object://myapp/tmp/0123456789abcdef0123456789abcd.tgz"\n}\n');

      expect(rack.state().objects).toEqual([
        { app: 'myapp', key: 'tmp/0123456789abcdef0123456789abcd.tgz', size: 4 * 1024 * 1024, sha256, public: false },
      ]);
      const entry = rack.requests().at(-1);
      expect(entry).toMatchObject({
        method: 'POST',
        headers: { 'transfer-encoding': 'chunked' },
        bodySize: 4 * 1024 * 1024,
        bodySha256: sha256,
        bodyComplete: true,
        form: null,
      });
    });

    it('stores a small Content-Length upload byte for byte and serves it back', async () => {
      const bytes = Buffer.concat([INVALID_UTF8_BYTES, Buffer.from('tail')]);
      await send('POST', '/apps/myapp/objects/small/file.bin', {
        headers: { 'content-type': 'application/octet-stream', 'content-length': String(bytes.length) },
        body: bytes,
      });
      const fetched = await send('GET', '/apps/myapp/objects/small/file.bin');
      expect(fetched.status).toBe(200);
      expect(fetched.body.equals(bytes)).toBe(true);
      expect((await send('GET', '/apps/myapp/objects/missing.tgz')).text).toBe('object not found: missing.tgz\n');
    });

    it('rejects object keys with a .. segment', async () => {
      const response = await send('POST', '/apps/myapp/objects/tmp/../../etc/passwd', { body: 'x' });
      expect(response).toMatchObject({ status: 400, text: 'invalid object key\n' });
      expect(rack.state().objects).toEqual([]);
    });
  });

  describe('builds and releases', () => {
    it('runs a build from an uploaded object to complete, with a new release', async () => {
      await send('POST', '/apps/myapp/objects/tmp/source.tgz', { body: randomBytes(2048) });
      const created = json<{ id: string; status: string; ended: string }>(
        await send(
          'POST',
          '/apps/myapp/builds',
          form({ url: 'object://myapp/tmp/source.tgz', description: 'ship it', 'git-sha': 'abc123', manifest: 'convox.yml' }),
        ),
      );
      expect(created.id).toMatch(/^B[A-Z]{10}$/);
      expect(created.status).toBe('created');
      expect(created.ended).toBe('0001-01-01T00:00:00Z');

      const logs = await openSocket(`/apps/myapp/builds/${created.id}/logs`);
      const complete = await waitFor(async () => {
        const build = json<{ status: string; release: string }>(await send('GET', `/apps/myapp/builds/${created.id}`));
        return build.status === 'complete' ? build : undefined;
      });
      expect(complete.release).toMatch(/^R[A-Z]{10}$/);

      const frames = await logs.untilEof;
      const output = Buffer.concat(frames.map((frame) => frame.data)).toString('utf8');
      expect(output).toContain('Building: .\n');
      expect(frames.slice(0, -1).every((frame) => !frame.binary)).toBe(true);
      await closeSocket(logs.ws);

      const release = json<{ build: string; env: string; description: string }>(
        await send('GET', `/apps/myapp/releases/${complete.release}`),
      );
      expect(release).toMatchObject({ build: created.id, env: SEED_ENV.myappSecond, description: 'ship it' });
      const latest = json<Array<{ id: string }>>(await send('GET', '/apps/myapp/releases?limit=1'));
      expect(latest.map((item) => item.id)).toEqual([complete.release]);
    });

    it('refuses a build whose object does not exist, and leaks the rack password for --external', async () => {
      expect(await send('POST', '/apps/myapp/builds', form({ url: 'object://myapp/tmp/nothing.tgz' }))).toMatchObject({
        status: 404,
        text: 'object not found: tmp/nothing.tgz\n',
      });

      await send('POST', '/apps/myapp/objects/tmp/external.tgz', { body: 'x' });
      const external = json<{ id: string; repository: string; status: string }>(
        await send('POST', '/apps/myapp/builds', form({ url: 'object://myapp/tmp/external.tgz', external: 'true' })),
      );
      expect(external.repository).toBe(`https://convox:${rack.password}@api.rack.example.com/myapp`);
      expect(external.status).toBe('created');
      // Only the create response carries it, as on the k8s provider.
      expect(json<{ repository: string }>(await send('GET', `/apps/myapp/builds/${external.id}`)).repository).toBe('');
    });

    it('fails a build on demand, without a release', async () => {
      await send('POST', '/apps/otherapp/objects/tmp/broken.tgz', { body: 'x' });
      const created = json<{ id: string }>(
        await send(
          'POST',
          '/apps/otherapp/builds',
          form({ url: 'object://otherapp/tmp/broken.tgz', description: `try ${BUILD_FAILURE_MARKER}` }),
        ),
      );
      const failed = await waitFor(async () => {
        const build = json<{ status: string; release: string; reason: string }>(await send('GET', `/apps/otherapp/builds/${created.id}`));
        return build.status === 'failed' ? build : undefined;
      });
      expect(failed).toMatchObject({ release: '', reason: 'mock build failure' });
      expect(rack.state().releases.filter((release) => release.app === 'otherapp')).toHaveLength(1);
    });

    it('forks the latest release, replaces its env and describes the change by key only', async () => {
      const env = ['DATABASE_URL=postgres://changed', 'NEW_FLAG=1', 'NODE_ENV=production', 'SECRET_KEY=sk_live_mock_4f9a2c7e1b3d'].join(
        '\n',
      );
      const created = json<{ id: string; build: string; env: string; description: string }>(
        await send('POST', '/apps/myapp/releases', form({ env })),
      );
      expect(created).toMatchObject({
        build: SEED.apps.myapp.build,
        env,
        description: 'env add:NEW_FLAG change:DATABASE_URL remove:REDIS_URL',
      });

      // Diffed against the parent, not the latest release (which already has REDIS_URL).
      const fromParent = json<{ description: string }>(
        await send('POST', '/apps/myapp/releases', form({ env: SEED_ENV.myappSecond, 'parent-release': SEED.apps.myapp.releases[0] })),
      );
      expect(fromParent.description).toBe('env add:REDIS_URL');

      expect(await send('POST', `/apps/myapp/releases/${created.id}/promote`)).toMatchObject({ status: 200, text: 'ok\n' });
      expect(json<{ release: string; status: string }>(await send('GET', '/apps/myapp'))).toMatchObject({
        release: created.id,
        status: 'running',
      });
    });
  });

  describe('websockets', () => {
    const execPath = `/apps/myapp/processes/${SEED.apps.myapp.processes.web[0]}/exec`;
    const marker = (code: number): string => `${EXIT_MARKER_PREFIX}${code}\n`;

    it('runs `echo hi` and ends with the exit marker frame, then an empty binary frame', async () => {
      const session = await openSocket(execPath, { command: 'echo hi', height: '40', width: '120', tty: 'true' });
      expect(session.status).toBe(101);
      const frames = await session.untilEof;
      expect(frames.map((frame) => [frame.binary, frame.data.toString('utf8')])).toEqual([
        [false, 'hi\n'],
        [false, marker(0)],
        [true, ''],
      ]);
      await closeSocket(session.ws);
    });

    it('reports `exit 3` through the marker', async () => {
      const session = await openSocket(`/apps/myapp/processes/web/exec`, { command: 'exit 3' });
      const frames = await session.untilEof;
      expect(frames.at(-2)?.data.toString('utf8')).toBe(marker(3));
      await closeSocket(session.ws);
    });

    it('echoes non-UTF-8 stdin through `cat` as raw text frames until the client sends EOF', async () => {
      const session = await openSocket(execPath, { command: 'cat' });
      const payload = Buffer.concat([INVALID_UTF8_BYTES, Buffer.from([0xc3, 0x28, 0x0a])]);
      session.ws.send(payload, { binary: false });
      session.ws.send(Buffer.alloc(0), { binary: true });
      const frames = await session.untilEof;
      expect(frames[0]).toEqual({ binary: false, data: payload });
      expect(frames.slice(1).map((frame) => [frame.binary, frame.data.toString('latin1')])).toEqual([
        [false, marker(0)],
        [true, ''],
      ]);
      await closeSocket(session.ws);

      const entry = rack.requests().find((candidate) => candidate.method === 'SOCKET' && candidate.path === execPath);
      expect(entry?.frames).toEqual([
        { binary: false, size: payload.length },
        { binary: true, size: 0 },
      ]);
      expect(entry?.bodySha256).toBe(createHash('sha256').update(payload).digest('hex'));
    });

    it('ends a no-follow log stream with EOF, honouring Prefix, Since and Tail', async () => {
      const session = await openSocket('/apps/myapp/logs', { follow: 'false', prefix: 'true', since: '2m0s', tail: '3' });
      const frames = await session.untilEof;
      const lines = frames.slice(0, -1).map((frame) => frame.data.toString('utf8'));
      expect(lines).toHaveLength(3);
      for (const line of lines)
        expect(line).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ service\/(web|worker)\/(web|worker)-[a-z0-9]+-[a-z0-9]{5} .+\n$/);
      await closeSocket(session.ws);
    });

    it('keeps a followed service log open, streaming until the client leaves', async () => {
      const session = await openSocket('/apps/myapp/services/worker/logs', { since: '1s', filter: 'job' });
      const received = await new Promise<string[]>((resolve) => {
        const lines: string[] = [];
        session.ws.on('message', (data: WebSocket.RawData) => {
          lines.push(toBuffer(data).toString('utf8'));
          if (lines.length === 3) resolve(lines);
        });
      });
      for (const line of received) expect(line).toMatch(/^processed job \d+\n$/);
      await closeSocket(session.ws);
    });

    it('upgrades before authenticating: a bad password gets 101, an ERROR frame and EOF', async () => {
      const session = await openSocket(execPath, { authorization: basic('convox', 'wrong'), command: 'echo hi' });
      expect(session.status).toBe(101);
      const frames = await session.untilEof;
      expect(frames.map((frame) => [frame.binary, frame.data.toString('utf8')])).toEqual([
        [false, 'ERROR: invalid authentication\n'],
        [true, ''],
      ]);
      await closeSocket(session.ws);
      expect(rack.requests().find((entry) => entry.method === 'SOCKET')).toMatchObject({ status: 101, authenticated: false });
    });

    it("rejects a handshake whose Origin is not the rack's host with 403", async () => {
      await expect(openSocket(execPath, { origin: 'https://gateway.example.com', command: 'echo hi' })).rejects.toThrow(
        'handshake answered 403',
      );
      const noOrigin = new WebSocket(`${rack.url.replace(/^http/, 'ws')}${execPath}`, {
        headers: { authorization, command: 'echo hi' },
        skipUTF8Validation: true,
      });
      const frames: string[] = [];
      await new Promise<void>((resolve) =>
        noOrigin.on('message', (data: WebSocket.RawData, binary: boolean) => {
          frames.push(toBuffer(data).toString('utf8'));
          if (binary) resolve();
        }),
      );
      expect(frames[0]).toBe('hi\n');
      await closeSocket(noOrigin);
    });

    it('echoes bytes through the TCP proxy tunnel and refuses loopback targets', async () => {
      const tunnel = await openSocket('/proxy/db.internal/5432');
      tunnel.ws.send(Buffer.from([0x00, 0xff, 0x10]), { binary: false });
      tunnel.ws.send(Buffer.alloc(0), { binary: true });
      expect((await tunnel.untilEof)[0].data).toEqual(Buffer.from([0x00, 0xff, 0x10]));
      await closeSocket(tunnel.ws);

      const refused = await openSocket('/proxy/127.0.0.1/22');
      expect((await refused.untilEof)[0].data.toString('utf8')).toBe('ERROR: invalid proxy host\n');
      await closeSocket(refused.ws);
    });
  });

  describe('journal, faults and control plane', () => {
    it('records method, raw path and query, headers as received, form fields on any method', async () => {
      const body = 'generated=true';
      await send('GET', '/certificates?', {
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'X-Convox-Actor': 'alice' },
        body,
      });
      await send('DELETE', '/apps/myapp/processes/web-7f9c6d5b8-k2x7p?', {
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'Convox-Actor': 'bob' },
        body: 'ack_by=bob',
      });
      const [certificates, stop] = rack.requests();
      expect(certificates).toMatchObject({
        method: 'GET',
        path: '/certificates',
        query: '',
        route: 'GET /certificates',
        authenticated: true,
        actor: 'alice',
        headers: { 'x-convox-actor': 'alice', authorization },
        bodySize: body.length,
        bodySha256: createHash('sha256').update(body).digest('hex'),
        form: { generated: ['true'] },
        status: 200,
      });
      expect(stop).toMatchObject({
        route: 'DELETE /apps/{app}/processes/{pid}',
        authenticated: true,
        actor: 'bob',
        form: { ack_by: ['bob'] },
        status: 200,
      });
      expect(rack.state().processes.map((process) => process.id)).not.toContain('web-7f9c6d5b8-k2x7p');
    });

    it('serves the control plane on its own port, unreachable through the rack URL', async () => {
      expect(new URL(rack.controlUrl).port).not.toBe(new URL(rack.url).port);
      expect(await send('GET', '/__mock/state')).toMatchObject({ status: 404, text: '' });

      const state = (await (await fetch(`${rack.controlUrl}/__mock/state`)).json()) as { apps: Array<{ name: string }> };
      expect(state.apps.map((app) => app.name)).toEqual(['myapp', 'otherapp']);

      const armed = await fetch(`${rack.controlUrl}/__mock/fault`, {
        method: 'POST',
        body: JSON.stringify({ method: 'GET', path: '/apps/{name}', status: 503, body: 'rack unavailable', times: 1 }),
      });
      expect(armed.status).toBe(201);
      expect(await send('GET', '/apps/myapp')).toMatchObject({ status: 503, text: 'rack unavailable\n' });
      expect((await send('GET', '/apps/myapp')).status).toBe(200);

      const invalid = await fetch(`${rack.controlUrl}/__mock/fault`, { method: 'POST', body: JSON.stringify({ method: 'GET' }) });
      expect(invalid.status).toBe(400);

      const journal = (await (await fetch(`${rack.controlUrl}/__mock/requests`)).json()) as Array<{ path: string }>;
      expect(journal.map((entry) => entry.path)).toEqual(['/__mock/state', '/apps/myapp', '/apps/myapp']);
      expect((await fetch(`${rack.controlUrl}/__mock/reset`, { method: 'POST' })).status).toBe(200);
      expect(rack.requests()).toEqual([]);
    });

    it('delays, and drops websockets abruptly, on demand', async () => {
      rack.injectFault({ method: 'SOCKET', path: '/apps/{name}/logs', dropAfterMs: 100 });
      const session = await openSocket('/apps/myapp/logs');
      const closeCode = await new Promise<number>((resolve) => session.ws.once('close', (code: number) => resolve(code)));
      expect(closeCode).toBe(1006);

      rack.injectFault({ method: 'GET', path: '/system', delayMs: 150 });
      const started = Date.now();
      expect((await send('GET', '/system')).status).toBe(200);
      expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    });
  });
});

function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

function toBuffer(data: WebSocket.RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

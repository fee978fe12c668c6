import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rackAndGateway } from '../support/gateway-fixture';
import { basicAuth } from '../support/test-gateway';

interface RequestLine {
  msg: string;
  event: string;
  requestId: string | null;
  method: string | null;
  route: string | null;
  path: string | null;
  status: number | null;
  durationMs: number | null;
  actor: string | null;
  app: string | null;
  decision: string;
}

const FORM = 'application/x-www-form-urlencoded';

/** The request lines among log lines (JSON, one a line). */
function requestLines(lines: readonly string[]): RequestLine[] {
  return lines.map((line) => JSON.parse(line) as RequestLine).filter((line) => line.msg === 'request');
}

async function eventually<T>(read: () => T, done: (value: T) => boolean): Promise<T> {
  for (let attempt = 0; attempt < 100; attempt += 1) {
    const value = read();
    if (done(value)) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return read();
}

describe('the request log', () => {
  // Each read its own line here; by default identical reads fold into one line with their count.
  const fixture = rackAndGateway({ env: { AUDIT_AGGREGATE_READS_SECONDS: '0' } });

  it('has one JSON line for every request, rack and API, refused or not, and no secret in any line', async () => {
    const { token: deployer } = await fixture.gateway.createUserWithToken('deployer@example.com', 'deployer');
    const { token: ops } = await fixture.gateway.createUserWithToken('ops@example.com', 'ops');
    const badToken = `rgw_${'L'.repeat(43)}`;
    const call = (path: string, init: RequestInit & { headers: Record<string, string> }) => fetch(`${fixture.gateway.url}${path}`, init);

    const [latest] = (await (
      await call('/apps/myapp/releases?limit=1', { headers: { authorization: basicAuth(deployer) } })
    ).json()) as Array<{ env: string }>;
    const sent: Array<{ path: string; method: string; status: number; line: Partial<RequestLine> }> = [];
    const send = async (path: string, init: RequestInit & { headers: Record<string, string> }, line: Partial<RequestLine>) => {
      const response = await call(path, init);
      sent.push({ path: path.split('?')[0], method: init.method ?? 'GET', status: response.status, line });
      await response.arrayBuffer();
    };

    await send(
      '/apps/myapp/processes?token=hunter2-in-the-query&service=web',
      { headers: { authorization: basicAuth(ops) } },
      { event: 'rack.exchange', route: 'GET /apps/{app}/processes', status: 200, actor: 'ops@example.com', app: 'myapp' },
    );
    await send(
      '/apps/myapp/releases',
      {
        method: 'POST',
        headers: { authorization: basicAuth(deployer), 'content-type': FORM },
        body: new URLSearchParams({ env: `${latest.env}\nNEW_SECRET=s3cr3t-env-v4lue` }).toString(),
      },
      { event: 'rack.exchange', route: 'POST /apps/{app}/releases', status: 200, actor: 'deployer@example.com' },
    );
    // A code riding after the token in the password, and one in X-MFA-TOTP.
    await send(
      '/apps/myapp/services/web/restart',
      { method: 'POST', headers: { authorization: basicAuth(`${ops}.totp.123456`), 'x-mfa-totp': '918273' } },
      { event: 'rack.exchange', route: 'POST /apps/{app}/services/{name}/restart', status: 200 },
    );
    // A one-off process's extra environment travels in a header.
    await send(
      '/apps/myapp/services/web/processes',
      { method: 'POST', headers: { authorization: basicAuth(ops), environment: 'RUN_SECRET=run-s3cr3t', command: 'echo c0mmand-s3cr3t' } },
      { event: 'rack.exchange', route: 'POST /apps/{app}/services/{service}/processes' },
    );
    await send(
      '/apps/myapp/builds?secret=hunter2-in-the-query',
      { headers: { authorization: basicAuth(badToken) } },
      { event: 'request.refused', status: 401, actor: null, decision: 'denied' },
    );
    await send(
      '/api/v1/me',
      { headers: { cookie: 'rgw_session=c00kie-s3cr3t; other=c00kie-tw0' } },
      { event: 'request.refused', status: 401, decision: 'denied' },
    );
    await send(
      '/api/v1/me',
      { headers: { authorization: `Bearer ${ops}` } },
      { event: 'api.request', route: 'GET /api/v1/me', status: 200 },
    );

    // Outcomes are recorded once the answer is sent: their lines may come a moment after it.
    const lines = await eventually(
      () => requestLines(fixture.gateway.logs.lines),
      (found) => sent.every(({ path, method }) => found.some((line) => line.path === path && line.method === method)),
    );
    for (const { path, method, status, line } of sent) {
      const mine = lines.filter((candidate) => candidate.path === path && candidate.method === method && candidate.status === status);
      expect(mine).toHaveLength(1);
      expect(mine[0]).toMatchObject({
        ...line,
        requestId: expect.any(String),
        // A refusal is answered before anything is timed; an exchange or API call has its duration.
        durationMs: line.event === 'request.refused' ? null : expect.any(Number),
        decision: line.decision ?? 'allowed',
      });
    }

    const everything = fixture.gateway.logs.text();
    for (const secret of [
      deployer,
      ops,
      badToken,
      fixture.rack.password,
      'hunter2-in-the-query',
      's3cr3t-env-v4lue',
      'sk_live_mock_4f9a2c7e1b3d',
      '.totp.123456',
      '918273',
      'run-s3cr3t',
      'c0mmand-s3cr3t',
      'c00kie-s3cr3t',
      'c00kie-tw0',
    ]) {
      expect(everything).not.toContain(secret);
    }
  });
});

describe('the request log in a file (LOG_FILE)', () => {
  const directory = mkdtempSync(join(tmpdir(), 'rgw-log-file-'));
  const fixture = rackAndGateway({
    env: { LOG_FILE: join(directory, 'gateway.log'), LOG_FILE_MAX_SIZE: '1k', LOG_FILE_KEEP: '2', AUDIT_AGGREGATE_READS_SECONDS: '0' },
  });

  afterAll(() => rmSync(directory, { recursive: true, force: true }));

  // pino-roll numbers the files before their extension: gateway.1.log, gateway.2.log, …
  const logFiles = () => readdirSync(directory).filter((name) => /^gateway\.\d+\.log$/.test(name));
  const numberOf = (name: string) => Number(name.split('.')[1]);

  it('is rolled at its size, the oldest files removed, each line whole JSON and free of the token', async () => {
    const { token } = await fixture.gateway.createUserWithToken('viewer@example.com', 'viewer');
    // About 300 bytes a line: thirty requests fill the 1 KiB file several times over.
    for (let request = 0; request < 30; request += 1) {
      const response = await fetch(`${fixture.gateway.url}/apps/myapp/processes?page=${request}`, {
        headers: { authorization: basicAuth(token) },
      });
      expect(response.status).toBe(200);
    }
    // The log is written and rolled off the request path: wait until its files have stopped changing
    // (the same names and sizes twice running), so none is removed while it is read below.
    let previous = '';
    const listing = () => logFiles().map((name) => `${name}:${statSync(join(directory, name), { throwIfNoEntry: false })?.size ?? 'gone'}`);
    const settled = await eventually(listing, (entries) => {
      const same = entries.join() === previous;
      previous = entries.join();
      return same && entries.some((entry) => numberOf(entry) >= 5);
    });
    const files = settled.map((entry) => entry.split(':')[0]);
    expect(Math.max(...files.map(numberOf))).toBeGreaterThanOrEqual(5);
    // The current file and LOG_FILE_KEEP before it.
    expect(files.length).toBeLessThanOrEqual(3);
    expect(fixture.gateway.logs.lines).toEqual([]);
    const kept = files.flatMap((name) => readFileSync(join(directory, name), 'utf8').split('\n').filter(Boolean));
    expect(requestLines(kept).length).toBeGreaterThan(0);
    expect(kept.join('\n')).not.toContain(token);
  });
});

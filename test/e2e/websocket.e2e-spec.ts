import { MockRack, startMockRack } from '../support/mock-rack';
import { TestGateway, basicAuth, startTestGateway, firstProcessId } from '../support/test-gateway';
import { RackSocket } from '../support/websocket-client';

const EXIT_MARKER = 'F1E49A85-0AD7-4AEF-A618-C249C6E6568D';

describe('websockets through the gateway', () => {
  let rack: MockRack;
  let gateway: TestGateway;
  let token: string;
  let pid: string;

  beforeAll(async () => {
    rack = await startMockRack();
    gateway = await startTestGateway({ rackUrl: rack.url, rackToken: rack.password });
    ({ token } = await gateway.createUserWithToken('ops@example.com', 'ops'));
  });

  afterAll(async () => {
    await gateway.close();
    await rack.close();
  });

  beforeEach(async () => {
    rack.reset();
    pid = await firstProcessId(gateway.url, token);
  });

  const exec = (command: string, extra: Record<string, string> = {}) =>
    RackSocket.open(`${gateway.url}/apps/myapp/processes/${pid}/exec`, {
      authorization: basicAuth(token),
      command,
      height: '40',
      width: '120',
      origin: gateway.url,
      ...extra,
    });

  it('runs exec end to end: output, the exit-code frame and the end-of-stream frame', async () => {
    const socket = await exec('exit 3');
    const frames = await socket.untilEnd();
    expect(frames.map((frame) => frame.data.toString('latin1'))).toContain(`${EXIT_MARKER}:3\n`);
    expect(frames.at(-1)).toEqual({ data: Buffer.alloc(0), binary: true });
    socket.close();
  });

  it('round-trips raw, non-UTF-8 bytes both ways, frame by frame, and stdin EOF', async () => {
    const socket = await exec('cat', { tty: 'false' });
    const bytes = Buffer.from([0xff, 0xfe, 0x00, 0x80, 0xc3, 0x28, 0x41]);
    socket.send(bytes);
    socket.send('second frame\n');
    socket.sendEof();
    await socket.untilEnd();
    expect(socket.output().subarray(0, bytes.length)).toEqual(bytes);
    expect(socket.output().toString('latin1')).toContain('second frame\n');
    expect(socket.output().toString('latin1')).toContain(`${EXIT_MARKER}:0\n`);

    const seen = rack.requests().find((entry) => entry.method === 'SOCKET');
    expect(seen?.headers.authorization).toBe(basicAuth(rack.password));
    expect(seen?.headers['convox-actor']).toBe('ops@example.com');
    expect(seen?.headers.origin).toBeUndefined();
    expect(seen?.headers.command).toBe('cat');
    expect(seen?.frames?.map((frame) => frame.binary)).toEqual([false, false, true]);
    socket.close();
  });

  it('passes binary output from the rack through unchanged', async () => {
    const socket = await exec('binary');
    await socket.untilEnd();
    expect(socket.output().includes(Buffer.from([0xff, 0xfe, 0x00, 0x80]))).toBe(true);
    socket.close();
  });

  it('streams app logs until the rack ends them', async () => {
    const socket = await RackSocket.open(`${gateway.url}/apps/myapp/logs`, {
      authorization: basicAuth(token),
      follow: 'false',
      prefix: 'true',
    });
    await socket.untilEnd();
    expect(socket.output().toString('utf8')).toMatch(/service\/web\//);
    socket.close();
  });

  it.each([
    // The same words as an HTTP request gets: one pipeline decides both.
    ['no credential', {}, 'authentication required: send a gateway token as the Basic-auth password or a Bearer token'],
    ['a bad token', { authorization: basicAuth(`rgw_${'B'.repeat(43)}`) }, 'invalid authentication'],
  ])('refuses %s the rack way (101, ERROR frame, exit code, EOF) without contacting the rack', async (_label, headers, reason) => {
    const socket = await RackSocket.open(`${gateway.url}/apps/myapp/processes/${pid}/exec`, { command: 'ls', ...headers });
    const frames = await socket.untilEnd();
    expect(frames.map((frame) => frame.data.toString('latin1'))).toEqual([`ERROR: ${reason}\n`, `${EXIT_MARKER}:1\n`, '']);
    expect(frames.at(-1)?.binary).toBe(true);
    expect(rack.requests().filter((entry) => entry.method === 'SOCKET')).toHaveLength(0);
    socket.close();
  });

  it('refuses a log stream without an exit code frame', async () => {
    const socket = await RackSocket.open(`${gateway.url}/apps/myapp/logs`, {});
    const frames = await socket.untilEnd();
    expect(frames.map((frame) => frame.data.toString('latin1'))).toEqual([
      'ERROR: authentication required: send a gateway token as the Basic-auth password or a Bearer token\n',
      '',
    ]);
    socket.close();
  });

  it('does not open websockets on the gateway API', async () => {
    await expect(RackSocket.open(`${gateway.url}/api/v1/me`, { authorization: basicAuth(token) })).rejects.toThrow(
      'handshake answered 404',
    );
  });
});

import { EXIT_MARKER_PREFIX, MockRack, startMockRack } from '../support/mock-rack';
import { TestGateway, basicAuth, startTestGateway, firstProcessId } from '../support/test-gateway';
import { type Frame, RackSocket } from '../support/websocket-client';

const REFUSED = ['ERROR: cross-origin websocket refused\n', `${EXIT_MARKER_PREFIX}1\n`, ''];
const ECHOED = ['hi\n', `${EXIT_MARKER_PREFIX}0\n`, ''];

/**
 * A browser attaches the page's Origin to every websocket, and with it any Basic credential it has cached
 * for the gateway: a page elsewhere could open an exec session as the user. Only the gateway's own origin,
 * or the origin of the host a non-browser client dialled (the convox CLI sends `http://<Host>`), or no
 * Origin at all may open one. A refused session never reaches the rack.
 */
describe('cross-origin websockets', () => {
  let rack: MockRack;
  let gateway: TestGateway;
  let ops: string;
  let pid: string;
  let host: string;
  let port: string;

  beforeAll(async () => {
    rack = await startMockRack();
    gateway = await startTestGateway({ rackUrl: rack.url, rackToken: rack.password });
    ({ token: ops } = await gateway.createUserWithToken('ops@example.com', 'ops'));
    ({ host, port } = new URL(gateway.url));
  });

  afterAll(async () => {
    await gateway.close();
    await rack.close();
  });

  beforeEach(async () => {
    rack.reset();
    pid = await firstProcessId(gateway.url, ops);
    rack.clearRequests();
  });

  /** Runs `echo hi` over exec with the given extra headers; the socket is closed whatever happens. */
  async function execEchoHi(headers: Record<string, string>): Promise<Frame[]> {
    const socket = await RackSocket.open(`${gateway.url}/apps/myapp/processes/${pid}/exec`, {
      authorization: basicAuth(ops),
      command: 'echo hi',
      ...headers,
    });
    try {
      return await socket.untilEnd();
    } finally {
      socket.close();
    }
  }

  const texts = (frames: Frame[]) => frames.map((frame) => frame.data.toString('latin1'));
  const rackSessions = () => rack.requests().filter((entry) => entry.method === 'SOCKET');

  it.each([
    ['another site', 'https://evil.example'],
    ['the opaque origin null (sandboxed frames, file: pages)', 'null'],
    ['a host that only starts with the gateway’s', () => `http://${host}.evil.example`],
    ['the gateway’s host under a different port', () => `http://127.0.0.1:${Number(port) + 1}`],
  ])('refuses an Origin of %s with the ERROR frame, exit code 1 and the end frame; the rack hears nothing', async (_label, origin) => {
    const frames = await execEchoHi({ origin: typeof origin === 'function' ? origin() : origin });
    expect(texts(frames)).toEqual(REFUSED);
    expect(frames.at(-1)).toEqual({ data: Buffer.alloc(0), binary: true });
    expect(rackSessions()).toEqual([]);
  });

  it('opens a session without an Origin (a CLI or CI client), and the rack sees none', async () => {
    const frames = await execEchoHi({});
    expect(texts(frames)).toEqual(ECHOED);
    expect(frames.at(-1)?.binary).toBe(true);
    const sessions = rackSessions();
    expect(sessions).toHaveLength(1);
    expect(sessions[0].headers.origin).toBeUndefined();
  });

  it('opens a session from the gateway’s own public origin, and does not pass the Origin to the rack', async () => {
    const frames = await execEchoHi({ origin: new URL(gateway.config.http.publicUrl).origin });
    expect(texts(frames)).toEqual(ECHOED);
    const sessions = rackSessions();
    expect(sessions).toHaveLength(1);
    expect(sessions[0].status).toBe(101);
    expect(sessions[0].headers.origin).toBeUndefined();
    expect(sessions[0].headers['convox-actor']).toBe('ops@example.com');
  });

  it('opens a session whose Origin is http://<Host>, as the convox CLI sends it', async () => {
    const frames = await execEchoHi({ origin: `http://${host}` });
    expect(texts(frames)).toEqual(ECHOED);
    expect(rackSessions()).toHaveLength(1);
    expect(rackSessions()[0].headers.origin).toBeUndefined();
  });

  it('opens a session dialled under another name when Host and Origin agree (localhost for 127.0.0.1)', async () => {
    const frames = await execEchoHi({ host: `localhost:${port}`, origin: `http://localhost:${port}` });
    expect(texts(frames)).toEqual(ECHOED);
    expect(rackSessions()).toHaveLength(1);
    expect(rackSessions()[0].headers.origin).toBeUndefined();
  });

  it('refuses a session whose Origin matches neither its Host nor the public URL', async () => {
    const frames = await execEchoHi({ host: `localhost:${port}`, origin: `http://localhost:${Number(port) + 1}` });
    expect(texts(frames)).toEqual(REFUSED);
    expect(rackSessions()).toEqual([]);
  });
});

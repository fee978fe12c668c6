import { connect } from 'node:net';
import { TokensService } from '../../src/tokens/tokens.service';
import { UsersService } from '../../src/users/users.service';
import { MockRack, startMockRack } from '../support/mock-rack';
import { TestDatabase, createTestDatabase, describeOnPostgresServer } from '../support/test-database';
import { TestGateway, basicAuth, startTestGateway, firstProcessId } from '../support/test-gateway';
import { RackSocket } from '../support/websocket-client';

const EXIT_MARKER = 'F1E49A85-0AD7-4AEF-A618-C249C6E6568D';
/** The bound: a revoked session is closed within a second, on every instance. */
const WITHIN_MS = 1_000;

/**
 * Revocation reaches sessions already open: an exec session, a log stream or an upload in progress is
 * cut as soon as its token is revoked, its user disabled or deleted, or its role no longer allows the
 * route, with the rack's ERROR frame naming why. `serving` holds the session; `changing` is where an
 * admin makes the change (the same instance, or another one on the same database).
 */
function revocationCases(gateways: () => { serving: TestGateway; changing: TestGateway }, rack: () => MockRack): void {
  let sequence = 0;

  async function openExec(role: 'ops' | 'admin', command = 'sleep 600') {
    const { serving } = gateways();
    const email = `revoked-${(sequence += 1)}@example.com`;
    const { user, token } = await serving.createUserWithToken(email, role);
    const processId = await firstProcessId(serving.url, token);
    const socket = await RackSocket.open(`${serving.url}/apps/myapp/processes/${processId}/exec`, {
      authorization: basicAuth(token),
      command,
    });
    return { user, email, token, socket };
  }

  /** Waits for the session's end and says how long it took after the change was made, and what it was told. */
  async function endAfterChange(socket: RackSocket, change: () => Promise<unknown>) {
    await change();
    const changed = Date.now();
    await socket.untilEnd(5_000);
    const elapsed = Date.now() - changed;
    socket.close();
    return { elapsed, texts: socket.frames.map((frame) => frame.data.toString('latin1')) };
  }

  it('ends an exec session whose token is revoked, saying so, with exit code 1', async () => {
    const { user, socket } = await openExec('ops');
    const tokens = gateways().changing.app.get(TokensService);
    const [token] = await tokens.listForUser(user.id);
    const { elapsed, texts } = await endAfterChange(socket, () => tokens.revoke(token.id));
    expect(elapsed).toBeLessThan(WITHIN_MS);
    expect(texts.slice(-3)).toEqual(['ERROR: access revoked: your token was revoked or has expired\n', `${EXIT_MARKER}:1\n`, '']);
  });

  it('ends an exec session whose user is disabled', async () => {
    const { email, socket } = await openExec('ops');
    const users = gateways().changing.app.get(UsersService);
    const { elapsed, texts } = await endAfterChange(socket, () => users.update(email, { disabled: true }));
    expect(elapsed).toBeLessThan(WITHIN_MS);
    expect(texts.slice(-3)).toEqual(['ERROR: access revoked: your user was disabled\n', `${EXIT_MARKER}:1\n`, '']);
  });

  it('ends an exec session whose user is deleted', async () => {
    const { email, socket } = await openExec('ops');
    const users = gateways().changing.app.get(UsersService);
    const { elapsed, texts } = await endAfterChange(socket, () => users.remove(email));
    expect(elapsed).toBeLessThan(WITHIN_MS);
    expect(texts.slice(-3)).toEqual(['ERROR: access revoked: your user was deleted\n', `${EXIT_MARKER}:1\n`, '']);
  });

  it('ends an exec session whose role no longer allows exec, naming the permission', async () => {
    const { email, socket } = await openExec('ops');
    const users = gateways().changing.app.get(UsersService);
    const { elapsed, texts } = await endAfterChange(socket, () => users.update(email, { role: 'viewer' }));
    expect(elapsed).toBeLessThan(WITHIN_MS);
    expect(texts.slice(-3)).toEqual(['ERROR: permission denied: exec:create on app myapp\n', `${EXIT_MARKER}:1\n`, '']);
  });

  it('ends an exec session whose app scope no longer covers the app', async () => {
    const { email, socket } = await openExec('ops');
    const users = gateways().changing.app.get(UsersService);
    const { texts } = await endAfterChange(socket, () => users.update(email, { appScopes: ['otherapp'] }));
    expect(texts.slice(-3)).toEqual(['ERROR: permission denied: exec:create on app myapp\n', `${EXIT_MARKER}:1\n`, '']);
  });

  it('cuts a session in the middle of its output between two frames, so the client still reads a well-formed stream', async () => {
    const { email, socket } = await openExec('ops', 'stream 200m');
    await new Promise((resolve) => setTimeout(resolve, 100));
    const users = gateways().changing.app.get(UsersService);
    const { texts } = await endAfterChange(socket, () => users.update(email, { disabled: true }));
    // A frame torn in half would have made the client's parser fail the connection before these arrived.
    expect(texts.length).toBeGreaterThan(3);
    expect(texts.slice(-3)).toEqual(['ERROR: access revoked: your user was disabled\n', `${EXIT_MARKER}:1\n`, '']);
  });

  it('leaves the sessions of people whose access did not change alone', async () => {
    const bystander = await openExec('ops');
    const revoked = await openExec('ops');
    const users = gateways().changing.app.get(UsersService);
    await endAfterChange(revoked.socket, () => users.update(revoked.email, { disabled: true }));
    await new Promise((resolve) => setTimeout(resolve, 200));
    bystander.socket.send('still here\n');
    await expect(bystander.socket.untilEnd(300)).rejects.toThrow('stream did not end');
    bystander.socket.close();
  });

  it('cuts an upload in progress when its token is revoked, and the rack never gets the whole body', async () => {
    const { serving } = gateways();
    const { user, token } = await serving.createUserWithToken(`uploader-${(sequence += 1)}@example.com`, 'deployer');
    const { hostname, port } = new URL(serving.url);
    const client = connect(Number(port), hostname);
    const closed = new Promise<number>((resolve) => client.once('close', () => resolve(Date.now())));
    client.on('error', () => undefined);
    client.write(
      [
        'POST /apps/myapp/objects/tmp/slow.tgz HTTP/1.1',
        `Host: ${hostname}:${port}`,
        `Authorization: ${basicAuth(token)}`,
        'Content-Length: 10000000',
        '',
        '',
      ].join('\r\n'),
    );
    const feeding = setInterval(() => client.write(Buffer.alloc(1024)), 20);
    try {
      await new Promise((resolve) => setTimeout(resolve, 200));
      const tokens = gateways().changing.app.get(TokensService);
      const [record] = await tokens.listForUser(user.id);
      await tokens.revoke(record.id);
      const changed = Date.now();
      expect((await closed) - changed).toBeLessThan(WITHIN_MS);
    } finally {
      clearInterval(feeding);
      client.destroy();
    }
    const upload = rack()
      .requests()
      .find((entry) => entry.path === '/apps/myapp/objects/tmp/slow.tgz');
    expect(upload?.bodyComplete).toBe(false);
  });
}

describe('revocation of live sessions on one instance', () => {
  let rack: MockRack;
  let gateway: TestGateway;

  beforeAll(async () => {
    rack = await startMockRack();
    gateway = await startTestGateway({ rackUrl: rack.url, rackToken: rack.password });
  });

  afterAll(async () => {
    await gateway.close();
    await rack.close();
  });

  revocationCases(
    () => ({ serving: gateway, changing: gateway }),
    () => rack,
  );
});

describeOnPostgresServer('revocation of live sessions across instances', () => {
  let rack: MockRack;
  let database: TestDatabase;
  let serving: TestGateway;
  let changing: TestGateway;

  beforeAll(async () => {
    rack = await startMockRack();
    database = await createTestDatabase();
    const env = { DATABASE_URL: database.url ?? '' };
    serving = await startTestGateway({ rackUrl: rack.url, rackToken: rack.password, env });
    changing = await startTestGateway({ rackUrl: rack.url, rackToken: rack.password, env });
  });

  afterAll(async () => {
    await serving.close();
    await changing.close();
    await rack.close();
    await database.drop();
  });

  revocationCases(
    () => ({ serving, changing }),
    () => rack,
  );
});

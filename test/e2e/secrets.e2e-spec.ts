import { MockRack, startMockRack } from '../support/mock-rack';
import { TestGateway, basicAuth, startTestGateway } from '../support/test-gateway';
import { RackSocket } from '../support/websocket-client';

describe('the rack token never leaves the gateway', () => {
  let rack: MockRack;
  let gateway: TestGateway;
  const seen: string[] = [];

  beforeAll(async () => {
    rack = await startMockRack();
    gateway = await startTestGateway({ rackUrl: rack.url, rackToken: rack.password, env: { LOG_LEVEL: 'trace' } });
  });

  afterAll(async () => {
    await gateway.close();
    await rack.close();
  });

  async function record(path: string, init: RequestInit = {}): Promise<Response> {
    const response = await fetch(`${gateway.url}${path}`, { ...init, redirect: 'manual' });
    seen.push(
      `${response.status} ${[...response.headers].map(([name, value]) => `${name}: ${value}`).join('\n')}\n${await response.clone().text()}`,
    );
    return response;
  }

  it('is absent from every answer, header, redirect and log line of a busy session', async () => {
    const { token } = await gateway.createUserWithToken('deployer@example.com', 'deployer');
    const auth = { authorization: basicAuth(token) };
    const form = { ...auth, 'content-type': 'application/x-www-form-urlencoded' };

    await record('/apps', { headers: auth });
    await record('/system', { headers: auth });
    await record('/apps/myapp/releases', { headers: auth });
    await record('/apps', { headers: { authorization: basicAuth(rack.password) } });
    await record('/apps', { headers: { authorization: `Bearer ${rack.password}` } });
    await record('/apps/nope', { headers: { ...auth, accept: 'application/json' } });
    const object = await record('/apps/myapp/objects/tmp/x.tgz', {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/octet-stream' },
      body: 'tar',
    });
    const { Url } = (await object.json()) as { Url: string };
    const build = await record('/apps/myapp/builds', {
      method: 'POST',
      headers: form,
      body: `url=${encodeURIComponent(Url)}&external=true`,
    });
    const { id } = (await build.json()) as { id: string };
    await record(`/apps/myapp/builds/${id}`, { headers: auth });
    await record('/apps/myapp/builds', { headers: auth });
    await record(`/apps/myapp/builds/${id}`, { method: 'PUT', headers: form, body: 'status=complete' });
    await record('/api/v1/health/ready');
    await record('/api/v1/me', { headers: auth });
    await record('/api/v1/auth/login?return_to=/x');
    await record('/api/docs/openapi.json');
    const socket = await RackSocket.open(`${gateway.url}/apps/myapp/logs`, { ...auth, follow: 'false' });
    await socket.untilEnd();
    seen.push(socket.output().toString('latin1'));
    socket.close();

    expect(seen.length).toBeGreaterThan(15);
    for (const answer of seen) expect(answer).not.toContain(rack.password);
    expect(gateway.logs.lines.length).toBeGreaterThan(0);
    expect(gateway.logs.text()).not.toContain(rack.password);
    expect(gateway.logs.text()).not.toContain(Buffer.from(`convox:${rack.password}`).toString('base64'));
  });
});

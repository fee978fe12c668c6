import { MockRack, startMockRack } from '../support/mock-rack';
import { TestGateway, startTestGateway } from '../support/test-gateway';

describe('deeply nested JSON on the gateway API', () => {
  let rack: MockRack;
  let gateway: TestGateway;
  let admin: string;

  beforeAll(async () => {
    rack = await startMockRack();
    gateway = await startTestGateway({ rackUrl: rack.url, rackToken: rack.password });
    ({ token: admin } = await gateway.createUserWithToken('admin@example.com', 'admin'));
  });

  afterAll(async () => {
    await gateway.close();
    await rack.close();
  });

  const createUser = (body: string) =>
    fetch(`${gateway.url}/api/v1/users`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      body,
    });

  async function listUserEmails(): Promise<string[]> {
    const response = await fetch(`${gateway.url}/api/v1/users`, { headers: { authorization: `Bearer ${admin}` } });
    return ((await response.json()) as Array<{ email: string }>).map((user) => user.email);
  }

  it.each([5_000, 100_000])('refuses a body nested %i levels deep with 400 problem+json and keeps serving', async (depth) => {
    const email = `nested-${depth}@example.com`;
    const nested = `${'['.repeat(depth)}${']'.repeat(depth)}`;
    const response = await createUser(`{"email": "${email}", "role": "viewer", "appScopes": ${nested}}`);

    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
    expect(await response.json()).toMatchObject({
      type: 'about:blank',
      status: 400,
      code: 'bad_request',
      detail: expect.stringContaining('nested deeper than'),
    });
    expect(await listUserEmails()).not.toContain(email);

    const next = await createUser(JSON.stringify({ email: `after-${depth}@example.com`, role: 'viewer', appScopes: ['api'] }));
    expect(next.status).toBe(201);
  });

  it('still validates a shallow body that brackets in its strings make look deep', async () => {
    const response = await createUser(JSON.stringify({ email: 'brackets@example.com', role: 'viewer', name: '['.repeat(150) }));

    expect(response.status).toBe(201);
  });
});

import { MASK } from '../../src/secrets/secret-values';
import { MockRack, SEED, SEED_ENV, startMockRack, type JournalEntry } from '../support/mock-rack';
import { rawExchange, requestHead } from '../support/raw-exchange';
import { TestGateway, basicAuth, startTestGateway } from '../support/test-gateway';

const RELEASES = '/apps/myapp/releases';
const FORM = 'application/x-www-form-urlencoded';
/** What the rack stores after FOO=bar is added: its own sorted format, real secret values. */
const WITH_FOO = [...SEED_ENV.myappSecond.split('\n'), 'FOO=bar'].sort().join('\n');
const ENV_IN_QUERY = 'a release environment is sent in the form body, not the query';
const FORM_EXPECTED = `a release is created from a ${FORM} body`;

/**
 * `PROTECTED_ENV_KEYS` holds NODE_ENV for every app. A release carries the whole environment, and the
 * rack reads it wherever Go's FormValue finds `env`: a urlencoded or multipart body, else the query. The
 * gateway reads the urlencoded body only, so every other way of sending an environment must be refused
 * before the rack hears of it, and the one it reads must reach the rack exactly as checked.
 */
describe('protected env keys cannot be changed through the gateway', () => {
  let rack: MockRack;
  let gateway: TestGateway;
  let deployer: string;

  beforeAll(async () => {
    rack = await startMockRack();
    gateway = await startTestGateway({
      rackUrl: rack.url,
      rackToken: rack.password,
      env: { PROTECTED_ENV_KEYS: JSON.stringify({ '*': ['NODE_ENV'] }) },
    });
    ({ token: deployer } = await gateway.createUserWithToken('deployer@example.com', 'deployer'));
  });

  afterAll(async () => {
    await gateway.close();
    await rack.close();
  });

  beforeEach(() => rack.reset());

  /** The environment as a deployer sees it: secrets masked, which is what `convox env set` posts back. */
  async function maskedEnv(): Promise<string> {
    const answer = await fetch(`${gateway.url}${RELEASES}?limit=1`, { headers: { authorization: basicAuth(deployer) } });
    const [release] = (await answer.json()) as Array<{ env: string }>;
    rack.clearRequests();
    return release.env;
  }

  const postRelease = (path: string, init: { body: RequestInit['body']; headers?: Record<string, string> }) =>
    fetch(`${gateway.url}${path}`, { method: 'POST', body: init.body, headers: { authorization: basicAuth(deployer), ...init.headers } });

  const postedReleases = (): JournalEntry[] => rack.requests().filter((entry) => entry.method === 'POST' && entry.path === RELEASES);
  /** The app's newest release at the rack: what the next promote would run with. */
  const latestRackEnv = () =>
    rack
      .state()
      .releases.filter((release) => release.app === 'myapp')
      .sort((a, b) => (a.created < b.created ? 1 : -1))[0].env;

  describe('an environment outside the urlencoded body', () => {
    it.each([
      ['env', `env=${encodeURIComponent('NODE_ENV=development')}`],
      ['a percent-encoded key', `e%6Ev=${encodeURIComponent('NODE_ENV=development')}`],
      ['an upper-case key', `ENV=${encodeURIComponent('NODE_ENV=development')}`],
      ['a pair after a semicolon', `x=1;env=${encodeURIComponent('NODE_ENV=development')}`],
    ])('in the query (%s) is refused with 400, and the rack hears nothing', async (_label, query) => {
      const response = await postRelease(`${RELEASES}?${query}`, {
        body: new URLSearchParams({ env: SEED_ENV.myappSecond }).toString(),
        headers: { 'content-type': FORM },
      });
      expect(response.status).toBe(400);
      expect(await response.text()).toBe(`${ENV_IN_QUERY}\n`);
      expect(rack.requests()).toEqual([]);
    });

    it('in the query is refused in the rack’s JSON shape to a client that accepts JSON', async () => {
      const response = await postRelease(`${RELEASES}?env=${encodeURIComponent('NODE_ENV=development')}`, {
        body: '',
        headers: { 'content-type': FORM, accept: 'application/json' },
      });
      expect(response.status).toBe(400);
      expect(await response.json()).toEqual({ error: ENV_IN_QUERY });
      expect(rack.requests()).toEqual([]);
    });

    it('in a multipart/form-data body is refused with 400, and the rack hears nothing', async () => {
      const multipart = new FormData();
      multipart.set('env', SEED_ENV.myappSecond.replace('NODE_ENV=production', 'NODE_ENV=development'));
      const response = await postRelease(RELEASES, { body: multipart });
      expect(response.status).toBe(400);
      expect(await response.text()).toBe(`${FORM_EXPECTED}\n`);
      expect(rack.requests()).toEqual([]);
    });

    it('in a JSON body is refused with 400, and the rack hears nothing', async () => {
      const response = await postRelease(RELEASES, {
        body: JSON.stringify({ env: 'NODE_ENV=development' }),
        headers: { 'content-type': 'application/json' },
      });
      expect(response.status).toBe(400);
      expect(await response.text()).toBe(`${FORM_EXPECTED}\n`);
      expect(rack.requests()).toEqual([]);
    });

    it('in a body without a Content-Type is refused with 400, and the rack hears nothing', async () => {
      const body = `env=${encodeURIComponent('NODE_ENV=development')}`;
      const exchange = await rawExchange(
        gateway.url,
        requestHead(gateway.url, `POST ${RELEASES} HTTP/1.1`, [`Authorization: ${basicAuth(deployer)}`, `Content-Length: ${body.length}`]) +
          body,
      );
      expect(exchange.statuses).toEqual([400]);
      expect(exchange.text).toContain(`\r\n\r\n${FORM_EXPECTED}\n`);
      expect(rack.requests()).toEqual([]);
    });

    it.each([
      ['POST', '/apps/myapp/environment', 'NODE_ENV=development'],
      ['DELETE', '/apps/myapp/environment/NODE_ENV', undefined],
    ])('through the legacy v2 route %s %s is refused with 403, and the rack hears nothing', async (method, path, body) => {
      const response = await fetch(`${gateway.url}${path}`, { method, body, headers: { authorization: basicAuth(deployer) } });
      expect(response.status).toBe(403);
      expect(await response.text()).toBe(`the gateway does not allow ${method} ${path}\n`);
      expect(rack.requests()).toEqual([]);
      expect(latestRackEnv()).toBe(SEED_ENV.myappSecond);
    });
  });

  describe('a urlencoded release form', () => {
    it('changing NODE_ENV is refused with 403 naming the key; the rack gets no release', async () => {
      const env = (await maskedEnv()).replace('NODE_ENV=production', 'NODE_ENV=development');
      const response = await postRelease(RELEASES, { body: new URLSearchParams({ env }).toString(), headers: { 'content-type': FORM } });
      expect(response.status).toBe(403);
      expect(await response.text()).toBe('protected env keys cannot be changed through the gateway: NODE_ENV\n');
      // The gateway reads the release the change is based on; nothing else reaches the rack.
      expect(rack.requests().map((entry) => entry.method)).not.toContain('POST');
      expect(latestRackEnv()).toBe(SEED_ENV.myappSecond);
    });

    it.each([
      [
        'a harmless env, then one changing NODE_ENV',
        (masked: string) => [masked, masked.replace('NODE_ENV=production', 'NODE_ENV=development')],
      ],
      [
        'an env changing NODE_ENV, then a harmless one',
        (masked: string) => [masked.replace('NODE_ENV=production', 'NODE_ENV=development'), masked],
      ],
    ])('with two env fields (%s) never brings the rack a NODE_ENV other than production', async (_label, envs) => {
      const form = new URLSearchParams();
      for (const env of envs(await maskedEnv())) form.append('env', env);
      const response = await postRelease(RELEASES, { body: form.toString(), headers: { 'content-type': FORM } });
      expect([200, 400, 403]).toContain(response.status);

      const posted = postedReleases();
      if (response.status !== 200) expect(posted).toEqual([]);
      for (const entry of posted) {
        expect(entry.form?.env).toHaveLength(1);
        expect(entry.form?.env?.[0].split('\n')).toContain('NODE_ENV=production');
      }
      expect(latestRackEnv().split('\n')).toContain('NODE_ENV=production');
    });

    it('adding FOO=bar reaches the rack with the real secret values restored', async () => {
      const env = `${await maskedEnv()}\nFOO=bar`;
      expect(env).toContain(MASK);
      const response = await postRelease(RELEASES, { body: new URLSearchParams({ env }).toString(), headers: { 'content-type': FORM } });
      expect(response.status).toBe(200);
      const release = (await response.json()) as { env: string };
      expect(release.env).toContain(`SECRET_KEY=${MASK}`);

      const posted = postedReleases();
      expect(posted).toHaveLength(1);
      expect(posted[0].form?.env).toEqual([WITH_FOO]);
      expect(latestRackEnv()).toBe(WITH_FOO);
    });

    it('is refused with 502 when the rack answers the base release with something else, and the rack gets no release', async () => {
      const env = `${await maskedEnv()}\nFOO=bar`;
      // A 200 with no JSON in it, as a broken rack or a proxy in front of it may give.
      rack.injectFault({ method: 'GET', path: '/apps/{app}/releases', status: 200, times: 1 });
      const response = await postRelease(RELEASES, { body: new URLSearchParams({ env }).toString(), headers: { 'content-type': FORM } });
      expect(response.status).toBe(502);
      expect(await response.text()).toBe('could not read the release this change is based on\n');
      expect(postedReleases()).toEqual([]);
    });

    it('keeps its Content-Type when the client names it in Connection: the rack parses the same form', async () => {
      const body = new URLSearchParams({
        env: `${await maskedEnv()}\nFOO=bar`,
        'parent-release': SEED.apps.myapp.currentRelease,
      }).toString();
      const exchange = await rawExchange(
        gateway.url,
        requestHead(gateway.url, `POST ${RELEASES} HTTP/1.1`, [
          `Authorization: ${basicAuth(deployer)}`,
          'Connection: content-type',
          `Content-Type: ${FORM}`,
          `Content-Length: ${body.length}`,
        ]) + body,
      );
      expect(exchange.statuses).toEqual([200]);

      const posted = postedReleases();
      expect(posted).toHaveLength(1);
      expect(posted[0].headers['content-type']).toBe(FORM);
      expect(posted[0].headers.connection ?? '').not.toMatch(/content-type/i);
      expect(posted[0].form?.env).toEqual([WITH_FOO]);
      expect(posted[0].form?.env?.[0]).not.toContain(MASK);
      expect(latestRackEnv()).toBe(WITH_FOO);
    });
  });
});

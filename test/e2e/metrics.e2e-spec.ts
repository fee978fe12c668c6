import { freePort } from '../support/free-port';
import { rackAndGateway } from '../support/gateway-fixture';
import { startsFreshRateWindow } from '../support/rate-windows';
import { requestFrom } from '../support/request-from';
import { type TestGateway, basicAuth, startTestGateway } from '../support/test-gateway';
import { RackSocket } from '../support/websocket-client';
import { growth, requests, scrape, scrapeUntil } from '../support/metrics-scrape';

const METRICS_TOKEN = 'metrics-token-0123456789abcdef0123456789';

describe('metrics without METRICS_TOKEN', () => {
  const fixture = rackAndGateway();
  let admin: string;
  let viewer: string;

  beforeAll(async () => {
    ({ token: admin } = await fixture.gateway.createUserWithToken('admin@example.com', 'admin'));
    ({ token: viewer } = await fixture.gateway.createUserWithToken('viewer@example.com', 'viewer'));
  });

  beforeEach(() => fixture.rack.reset());

  const rack = (method: string, path: string, token: string | undefined, body?: string) =>
    fetch(`${fixture.gateway.url}${path}`, {
      method,
      headers: {
        ...(token ? { authorization: basicAuth(token) } : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/x-www-form-urlencoded' }),
      },
      body,
    });

  it('are public, in the Prometheus text format, with the process metrics', async () => {
    const response = await fetch(`${fixture.gateway.url}/api/v1/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const text = await response.text();
    expect(text).toContain('# TYPE rack_gateway_requests_total counter');
    expect(text).toContain('# TYPE rack_gateway_rack_request_duration_seconds histogram');
    expect(text).toMatch(/^process_cpu_user_seconds_total \d/m);
    expect(text).toMatch(/^nodejs_heap_size_used_bytes \d/m);
  });

  it('count forwarded requests by route class and the rack’s status, and time the rack', async () => {
    const before = await scrape(fixture.gateway.url);
    expect((await rack('GET', '/apps', admin)).status).toBe(200);
    expect((await rack('GET', '/apps/nope', admin)).status).toBe(404);
    expect((await rack('POST', '/apps', admin, 'name=counted&generation=2')).status).toBe(200);

    const after = await scrapeUntil(
      fixture.gateway.url,
      (scraped) => growth(before, scraped, 'rack_gateway_rack_request_duration_seconds_count{route_class="write"}') === 1,
    );
    expect(growth(before, after, requests('read', 'allowed', 200))).toBe(1);
    expect(growth(before, after, requests('read', 'allowed', 404))).toBe(1);
    expect(growth(before, after, requests('write', 'allowed', 200))).toBe(1);
    expect(growth(before, after, 'rack_gateway_rack_request_duration_seconds_count{route_class="read"}')).toBe(2);
    expect(growth(before, after, 'rack_gateway_rack_request_duration_seconds_bucket{le="+Inf",route_class="read"}')).toBe(2);
    expect(growth(before, after, 'rack_gateway_rack_request_duration_seconds_sum{route_class="read"}')).toBeGreaterThan(0);
  });

  it('count refusals by the route they were for and the decision', async () => {
    const before = await scrape(fixture.gateway.url);
    expect((await rack('GET', '/apps', undefined)).status).toBe(401);
    expect((await rack('POST', '/apps', viewer, 'name=refused')).status).toBe(403);
    expect((await rack('GET', '/not-a-rack-route', admin)).status).toBe(403);

    const after = await scrape(fixture.gateway.url);
    expect(growth(before, after, requests('read', 'unauthenticated', 401))).toBe(1);
    expect(growth(before, after, requests('write', 'denied', 403))).toBe(1);
    expect(growth(before, after, requests('unknown', 'denied', 403))).toBe(1);
    expect(fixture.rack.requests()).toEqual([]);
  });

  it('count the gateway API’s own answers as api', async () => {
    const before = await scrape(fixture.gateway.url);
    expect((await fetch(`${fixture.gateway.url}/api/v1/me`, { headers: { authorization: `Bearer ${viewer}` } })).status).toBe(200);
    expect((await fetch(`${fixture.gateway.url}/api/v1/me`)).status).toBe(401);
    expect((await fetch(`${fixture.gateway.url}/api/v1/users`, { headers: { authorization: `Bearer ${viewer}` } })).status).toBe(403);

    const after = await scrapeUntil(fixture.gateway.url, (scraped) => growth(before, scraped, requests('api', 'denied', 403)) === 1);
    expect(growth(before, after, requests('api', 'allowed', 200))).toBeGreaterThanOrEqual(2); // the scrape before this one, too
    expect(growth(before, after, requests('api', 'unauthenticated', 401))).toBe(1);
    expect(growth(before, after, requests('api', 'denied', 403))).toBe(1);
  });

  it('count websocket sessions while they are open', async () => {
    const before = await scrape(fixture.gateway.url);
    expect(before.get('rack_gateway_websocket_sessions_open')).toBe(0);
    const socket = await RackSocket.open(`${fixture.gateway.url}/apps/myapp/logs`, { authorization: basicAuth(admin), follow: 'true' });
    const open = await scrapeUntil(fixture.gateway.url, (scraped) => scraped.get('rack_gateway_websocket_sessions_open') === 1);
    expect(open.get('rack_gateway_websocket_sessions_open')).toBe(1);

    socket.close();
    const closed = await scrapeUntil(fixture.gateway.url, (scraped) => scraped.get('rack_gateway_websocket_sessions_open') === 0);
    expect(closed.get('rack_gateway_websocket_sessions_open')).toBe(0);
    expect(growth(before, closed, requests('stream', 'allowed', 101))).toBe(1);
  });

  it('report the rack up, read-only mode off and the audit queue drained', async () => {
    const scraped = await scrapeUntil(fixture.gateway.url, (series) => series.get('rack_gateway_audit_queue_depth') === 0);
    expect(scraped.get('rack_gateway_rack_up')).toBe(1);
    expect(scraped.get('rack_gateway_read_only')).toBe(0);
    expect(scraped.get('rack_gateway_audit_queue_depth')).toBe(0);
    expect(scraped.get('rack_gateway_audit_spooled_events')).toBe(0);
  });
});

describe('metrics of rate limits', () => {
  const fixture = rackAndGateway({ env: { RATE_LIMIT_AUTH_FAILURES_PER_MINUTE: '2' } });

  it('count each refusal by the limit that was hit', async () => {
    await startsFreshRateWindow();
    const before = await scrape(fixture.gateway.url);
    const badToken = { headers: { authorization: basicAuth(`rgw_${'B'.repeat(43)}`) } };
    for (let attempt = 1; attempt <= 2; attempt += 1) {
      expect((await requestFrom('127.0.0.7', `${fixture.gateway.url}/apps`, badToken)).status).toBe(401);
    }
    expect((await requestFrom('127.0.0.7', `${fixture.gateway.url}/apps`, badToken)).status).toBe(429);
    expect((await requestFrom('127.0.0.7', `${fixture.gateway.url}/apps`, badToken)).status).toBe(429);

    const after = await scrape(fixture.gateway.url);
    expect(growth(before, after, 'rack_gateway_rate_limit_hits_total{bucket="authFailures"}')).toBe(2);
    // The first 429 is the failure past the limit, once the target was read; the next is refused
    // before anything, its target included, is looked at.
    expect(growth(before, after, requests('read', 'rate_limited', 429))).toBe(1);
    expect(growth(before, after, requests('unknown', 'rate_limited', 429))).toBe(1);
    expect(growth(before, after, requests('read', 'unauthenticated', 401))).toBe(2);
  });
});

describe('metrics with METRICS_TOKEN', () => {
  const fixture = rackAndGateway({ env: { METRICS_TOKEN } });

  it('need the token as a Bearer token', async () => {
    const scraped = await scrape(fixture.gateway.url, { authorization: `Bearer ${METRICS_TOKEN}` });
    expect(scraped.get('rack_gateway_read_only')).toBe(0);
    expect((await fetch(`${fixture.gateway.url}/api/v1/metrics`, { headers: { authorization: `bearer  ${METRICS_TOKEN}` } })).status).toBe(
      200,
    );
  });

  it.each([
    ['no credential', undefined],
    ['a wrong token', `Bearer ${METRICS_TOKEN.slice(0, -1)}x`],
    ['a longer token', `Bearer ${METRICS_TOKEN}x`],
    ['the token as a Basic password', basicAuth(METRICS_TOKEN)],
  ])('refuse %s with 401 and a Bearer challenge', async (_label, authorization) => {
    const refused = await fetch(`${fixture.gateway.url}/api/v1/metrics`, { headers: authorization ? { authorization } : {} });
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toBe('Bearer realm="Rack Gateway metrics"');
    expect(refused.headers.get('content-type')).toContain('application/problem+json');
    expect(await refused.json()).toMatchObject({ status: 401, code: 'metrics_token_required' });
  });

  it('refuse a gateway token, even an admin’s: the metrics token is the only way in', async () => {
    const { token: admin } = await fixture.gateway.createUserWithToken('admin@example.com', 'admin');
    expect((await fetch(`${fixture.gateway.url}/api/v1/metrics`, { headers: { authorization: `Bearer ${admin}` } })).status).toBe(401);
  });
});

describe('metrics of a rack that is down', () => {
  let gateway: TestGateway;

  beforeAll(async () => {
    gateway = await startTestGateway({ rackUrl: `http://127.0.0.1:${await freePort()}`, rackToken: 'unused' });
  });

  afterAll(async () => {
    await gateway.close();
  });

  it('report it down', async () => {
    expect((await scrape(gateway.url)).get('rack_gateway_rack_up')).toBe(0);
  });
});

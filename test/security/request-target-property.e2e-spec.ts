import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse as legacyUrlParse } from 'node:url';
import { rackRequestTargetUrl, readRackRequestTarget } from '../../src/rack/rack-request-target';
import { APP_NAME } from '../../src/rbac/app-scope';
import { RACK_ROUTES, type MatchedRackRoute, type RackRoute, matchRackRoute } from '../../src/rbac/rack-route-table';
import { MockRack, startMockRack } from '../support/mock-rack';
import { decodePath } from '../support/mock-rack/rack-server';
import { RouteTable, type RouteMethod } from '../support/mock-rack/route-table';
import { rawExchange, requestHead } from '../support/raw-exchange';
import { TestGateway, basicAuth, startTestGateway } from '../support/test-gateway';

// http-proxy's own outgoing-request builder: what the gateway hands it is what goes on the wire.
// eslint-disable-next-line @typescript-eslint/no-require-imports -- a module the package does not export
const { setupOutgoing } = require('http-proxy/lib/http-proxy/common') as {
  setupOutgoing: (outgoing: object, options: object, request: object) => { path: string };
};

const ANY_METHODS: RouteMethod[] = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS'];

/**
 * A router written the way the rack's is (stdapi on gorilla/mux: routes tried in order against Go's
 * decoded path, no cleaning), holding every route of the rack API, independent of the gateway's table.
 */
function stdapiRouter(): RouteTable<string> {
  const router = new RouteTable<string>();
  const lines = readFileSync(resolve(__dirname, '../fixtures/convox-rack-routes.txt'), 'utf8').split('\n');
  for (const line of lines.filter((text) => text && !text.startsWith('#'))) {
    const [method, template] = line.split(' ');
    for (const each of method === 'ANY' ? ANY_METHODS : [method as RouteMethod]) router.add(each, template, `${method} ${template}`);
  }
  return router;
}

/** The gateway's row for a route the stdapi-like router matched, by its method (or ANY) and template. */
function gatewayRow(label: string): RackRoute | undefined {
  const [method, template] = label.split(' ');
  return (
    RACK_ROUTES.find((route) => route.method === method && route.path === template) ??
    RACK_ROUTES.find((route) => route.method === 'ANY' && route.path === template)
  );
}

/** Pieces of a path segment: ordinary ones, and what a hostile client adds (encodings, separators, dot segments, odd bytes). */
const NAME_PIECES = ['myapp', 'p1', 'exec', 'files', 'logs', 'x.tgz', 'a', '-', '%61pp'];
const PUNCTUATION_PIECES = ['%41', '~', '!', '*', '(', ')', '$', ',', ';', ':', '@', '+', '&', '=', "'"];
const HOSTILE_PIECES = [
  '.',
  '..',
  '/',
  '//',
  '\\',
  '#',
  '?',
  '%',
  '%2F',
  '%2f',
  '%5C',
  '%5c',
  '%2e',
  '%2E',
  '%2e%2e',
  '%00',
  '%0A',
  '%20',
  '%25',
  '%252F',
  '%23',
  '%3F',
  '%zz',
  '%C0%AF',
  '%C3%A4',
  'ä',
  '\t',
  'http:/',
  'HTTPS:/',
];
const piece = fc.oneof(
  { arbitrary: fc.constantFrom(...NAME_PIECES), weight: 8 },
  { arbitrary: fc.constantFrom(...PUNCTUATION_PIECES), weight: 2 },
  { arbitrary: fc.constantFrom(...HOSTILE_PIECES), weight: 2 },
);

const segmentValue = fc.array(piece, { minLength: 1, maxLength: 3 }).map((pieces) => pieces.join(''));
const query = fc.option(
  fc.array(fc.constantFrom('a=1', 'env=X', 'file=/etc/shadow', '%2F', '#x', '?', '&', ';', ' ', "'"), { maxLength: 3 }),
  {
    nil: undefined,
  },
);

const method = fc.constantFrom('GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS');
const HTTP_ROUTES = RACK_ROUTES.filter((route) => route.method !== 'SOCKET');

/** A request for one of the gateway's routes with hostile variable values, or a hostile path with any method. */
const hostileRequest: fc.Arbitrary<[string, string]> = fc.oneof(
  fc
    .tuple(fc.constantFrom(...HTTP_ROUTES), method, fc.array(segmentValue, { minLength: 4, maxLength: 4 }), query)
    .map(([route, anyMethod, values, parts]): [string, string] => {
      let index = 0;
      const path = route.path.replace(/\{\w+(?::\.\*)?\}/g, () => values[index++ % values.length]);
      return [route.method === 'ANY' ? anyMethod : route.method, parts === undefined ? path : `${path}?${parts.join('')}`];
    }),
  fc.tuple(
    method,
    fc
      .array(fc.oneof(piece, fc.constantFrom('/apps/', '/processes/', '/')), { minLength: 1, maxLength: 8 })
      .map((pieces) => `/${pieces.join('')}`),
  ),
);

/** The route the gateway allows a target to, as RackAuthorizer decides it (an admin may do anything the table knows). */
function allowedRoute(verb: string, target: string): MatchedRackRoute | undefined {
  const reading = readRackRequestTarget(target);
  const matched = reading.ok ? matchRackRoute(verb, reading.target.path) : undefined;
  return matched && (matched.app === undefined || APP_NAME.test(matched.app)) ? matched : undefined;
}

describe('the request target the gateway authorizes is the one the rack routes', () => {
  const router = stdapiRouter();

  it('whenever the gateway would allow a target, a stdapi router matches the same permission and app', () => {
    let allowed = 0;
    fc.assert(
      fc.property(hostileRequest, ([verb, target]) => {
        const reading = readRackRequestTarget(target);
        const decided = allowedRoute(verb, target);
        if (!reading.ok || !decided) return;
        allowed += 1;

        // What the rack's Go server makes of the original target, and of the one forwarded, is the path decided on.
        const forwarded = rackRequestTargetUrl(reading.target, '');
        expect(decodePath(target.split('?', 1)[0])).toBe(reading.target.path);
        expect(decodePath(forwarded.split('?', 1)[0])).toBe(reading.target.path);
        // http-proxy puts exactly that on the wire.
        const outgoing = setupOutgoing(
          {},
          { target: legacyUrlParse('http://rack'), toProxy: true, prependPath: false },
          { url: forwarded, headers: {}, method: verb },
        );
        expect(outgoing.path).toBe(forwarded);

        const routed = router.resolve(verb, reading.target.path, false);
        expect(routed.outcome).toBe('matched');
        if (routed.outcome !== 'matched') return;
        const rackRow = gatewayRow(routed.route.label);
        expect({ action: rackRow?.action, subject: rackRow?.subject }).toEqual({
          action: decided.route.action,
          subject: decided.route.subject,
        });
        const rackApp = routed.vars.app ?? (routed.route.label.includes(' /apps/{name}') ? routed.vars.name : undefined);
        expect(rackApp).toBe(decided.app);
      }),
      { numRuns: 5_000 },
    );
    // The generator must reach allowed targets, or the property says nothing.
    expect(allowed).toBeGreaterThan(500);
  });

  describe('through the running gateway', () => {
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

    it('refuses what it cannot read one way (400), refuses unknown routes (403), and forwards exactly the path it decided on', async () => {
      await fc.assert(
        // Whitespace ends the request-target on the wire, so such a target is not the one the gateway would read.
        fc.asyncProperty(
          hostileRequest.filter(([, target]) => !/\s/.test(target)),
          async ([verb, target]) => {
            rack.reset();
            const head = requestHead(gateway.url, `${verb} ${target} HTTP/1.1`, [
              `Authorization: ${basicAuth(admin)}`,
              'Content-Length: 0',
            ]);
            const exchange = await rawExchange(gateway.url, Buffer.from(head, 'utf8'), 2_000, (text) => /\r\n\r\n/.test(text));
            const reading = readRackRequestTarget(target);
            const decided = allowedRoute(verb, target);
            if (!reading.ok || !decided) {
              expect(exchange.statuses[0]).toBe(reading.ok ? 403 : 400);
              expect(rack.requests()).toEqual([]);
              return;
            }
            // A release's env goes in the form body only (protected-env.e2e-spec.ts): `env` in the query is a 400.
            if (decided.route.requestRewrite === 'release-env' && exchange.statuses[0] === 400) {
              expect(reading.target.query ?? '').toContain('env');
              expect(rack.requests()).toEqual([]);
              return;
            }
            const forwarded = rack.requests().filter((entry) => entry.method === verb);
            expect(forwarded.map((entry) => [entry.path, entry.query])).toEqual([[reading.target.path, reading.target.query ?? '']]);
          },
        ),
        { numRuns: 300 },
      );
    });
  });
});

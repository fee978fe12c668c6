import { Injectable, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance, onResponseHookHandler, RouteOptions } from 'fastify';
import { Counter, Histogram, Registry } from 'prom-client';
import { type RequestRefusal, RequestRefusals } from '../common/errors/request-refusals';
import { isGatewayPath } from '../common/gateway-paths';
import type { RackExchangeOutcome } from '../proxy/rack-exchange';
import { RackExchanges } from '../proxy/rack-exchanges.service';
import { RateLimiter } from '../rate-limit/rate-limiter.service';
import { matchRackRoute } from '../rbac/rack-route-table';
import { RequestTally, decisionOf } from './request-tally';

/** Rack answers take milliseconds (reads) to minutes (uploads, promotes held open). */
const RACK_DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

/**
 * Counts what happens to requests, from where it is already known, so the proxy's path does no work
 * for it: forwarded exchanges from RackExchanges' outcomes, refusals from RequestRefusals, limits hit
 * from the rate limiter, and the gateway API's answers from a hook on its own routes only.
 */
@Injectable()
export class RequestMetrics implements OnModuleInit {
  private readonly requests = new RequestTally();
  private readonly rackDurations: Histogram<'route_class'>;
  private readonly rateLimitHits: Counter<'bucket'>;

  constructor(
    registry: Registry,
    private readonly exchanges: RackExchanges,
    private readonly refusals: RequestRefusals,
    private readonly limiter: RateLimiter,
    adapterHost: HttpAdapterHost,
  ) {
    const requests = this.requests;
    new Counter({
      name: 'rack_gateway_requests_total',
      help: 'Requests by route class (the rack route row, or api for the gateway API), decision and answer status.',
      labelNames: ['route_class', 'decision', 'status'],
      registers: [registry],
      collect() {
        this.reset();
        for (const { routeClass, decision, status, count } of requests.entries()) {
          this.inc({ route_class: routeClass, decision, status: String(status) }, count);
        }
      },
    });
    this.rackDurations = new Histogram({
      name: 'rack_gateway_rack_request_duration_seconds',
      help: 'Forwarded HTTP exchanges with the rack, by route class: from forwarding until the answer was sent.',
      labelNames: ['route_class'],
      buckets: RACK_DURATION_BUCKETS,
      registers: [registry],
    });
    this.rateLimitHits = new Counter({
      name: 'rack_gateway_rate_limit_hits_total',
      help: 'Requests refused by a rate limit, by bucket.',
      labelNames: ['bucket'],
      registers: [registry],
    });
    // Nest registers its routes with Fastify in app.init(), after the providers are built: each route of
    // the gateway API gets the hook, and the proxy's catch-all none, so rack requests never run it.
    adapterHost.httpAdapter.getInstance<FastifyInstance>().addHook('onRoute', (route) => this.countApiAnswers(route));
  }

  onModuleInit(): void {
    this.exchanges.outcomes.subscribe((outcome) => this.countExchange(outcome));
    this.refusals.onRefusal((refusal) => this.countRefusal(refusal));
    this.limiter.onLimited((bucket) => this.rateLimitHits.inc({ bucket }));
  }

  private countExchange(outcome: RackExchangeOutcome): void {
    const routeClass = outcome.decision.route.rateClass;
    this.requests.add(routeClass, 'allowed', outcome.status);
    // A websocket's duration is how long someone kept a session open, not how fast the rack answers.
    if (outcome.transport === 'http') this.rackDurations.observe({ route_class: routeClass }, outcome.durationMs / 1000);
  }

  /**
   * Refusals on rack paths, HTTP and websocket. A request refused before the policy matched its route
   * (no credential, say) is classed by its route all the same; one refused before its target was read
   * (an address over its limit), or whose target no route row matches, is `unknown`. The API's
   * refusals are counted with its answers; an unknown path under /api/ (the catch-all's 404) is neither.
   */
  private countRefusal({ request, status }: RequestRefusal): void {
    if (isGatewayPath(request.url)) return;
    const route =
      request.rackDecision?.route ??
      request.rackRefusal?.route ??
      (request.rackTarget ? matchRackRoute(request.method, request.rackTarget.path)?.route : undefined);
    this.requests.add(route?.rateClass ?? 'unknown', decisionOf(status), status);
  }

  private countApiAnswers(route: RouteOptions): void {
    if (!isGatewayPath(route.url)) return;
    const count: onResponseHookHandler = (_request, reply, done) => {
      this.requests.add('api', decisionOf(reply.statusCode), reply.statusCode);
      done();
    };
    route.onResponse = [...asArray(route.onResponse), count];
  }
}

function asArray<T>(value: T | T[] | undefined): T[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

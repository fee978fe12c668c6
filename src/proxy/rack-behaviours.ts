import { Injectable, OnApplicationBootstrap } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import type { Principal } from '../auth/principal';
import type { AllowedRackRequest } from '../rbac/rack-authorizer.service';
import { type AnswerFilter, RACK_ROUTES, type RequestRewrite } from '../rbac/rack-route-table';

/** A request body as rewritten for the rack. */
export interface RewrittenRackRequest {
  /** What the rack receives. */
  readonly body: Buffer;
  /** What the request's audit intent says of the change (the env keys a release changes): never a secret. */
  readonly recorded?: Readonly<Record<string, unknown>>;
}

/** Rewrites a request body before the rack reads it. */
export interface RackRequestRewrite {
  rewrite(request: IncomingMessage, decision: AllowedRackRequest, principal: Principal): Promise<RewrittenRackRequest>;
}

/** Rewrites a rack answer for a caller who may not see all of it. */
export interface RackAnswerFilter {
  /** Whether this caller's answer must be read and rewritten; when not, it streams through untouched. */
  applies(decision: AllowedRackRequest): boolean;
  /** The answer to send instead of the rack's parsed JSON. */
  filter(parsed: unknown, decision: AllowedRackRequest): unknown;
}

/**
 * The behaviours route rows name (`requestRewrite`, `answerFilter`), and who provides each. The module
 * that owns a behaviour registers its handler here at start; the proxy only looks them up. A row naming
 * a behaviour nobody provides stops the gateway at start rather than forwarding unfiltered.
 */
@Injectable()
export class RackBehaviours implements OnApplicationBootstrap {
  private readonly requestRewrites = new Map<RequestRewrite, RackRequestRewrite>();
  private readonly answerFilters = new Map<AnswerFilter, RackAnswerFilter>();

  provideRequestRewrite(name: RequestRewrite, handler: RackRequestRewrite): void {
    this.requestRewrites.set(name, handler);
  }

  provideAnswerFilter(name: AnswerFilter, handler: RackAnswerFilter): void {
    this.answerFilters.set(name, handler);
  }

  requestRewriteFor(decision: AllowedRackRequest): RackRequestRewrite | undefined {
    const name = decision.route.requestRewrite;
    return name === undefined ? undefined : this.provided(this.requestRewrites, name);
  }

  /** The filter this caller's answer must go through, if any. */
  answerFilterFor(decision: AllowedRackRequest): RackAnswerFilter | undefined {
    const name = decision.route.answerFilter;
    if (name === undefined) return undefined;
    const filter = this.provided(this.answerFilters, name);
    return filter.applies(decision) ? filter : undefined;
  }

  onApplicationBootstrap(): void {
    for (const route of RACK_ROUTES) {
      if (route.requestRewrite) this.provided(this.requestRewrites, route.requestRewrite);
      if (route.answerFilter) this.provided(this.answerFilters, route.answerFilter);
    }
  }

  private provided<Name extends string, Handler>(handlers: Map<Name, Handler>, name: Name): Handler {
    const handler = handlers.get(name);
    if (!handler) throw new Error(`no module provides the rack route behaviour ${name}`);
    return handler;
  }
}

import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Principal } from '../auth/principal';
import type { PipelineRequest } from '../common/pipeline-request';
import type { RackRequestTarget } from '../rack/rack-request-target';
import type { AllowedRackRequest, RefusedRackRequest } from '../rbac/rack-authorizer.service';

/**
 * A websocket upgrade on a rack path, as the request pipeline's stages see it. Upgrades never reach
 * Fastify's router, so this stands in for its request: the same fields the guards read, with `SOCKET`
 * as the method, which is how the route table names websocket routes.
 */
export class RackUpgradeRequest implements PipelineRequest {
  readonly method = 'SOCKET';
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  principal?: Principal;
  rackTarget?: RackRequestTarget;
  rackDecision?: AllowedRackRequest;
  rackRefusal?: RefusedRackRequest;

  constructor(
    readonly raw: IncomingMessage,
    readonly socket: Duplex,
    readonly head: Buffer,
  ) {
    this.url = raw.url ?? '/';
    this.headers = raw.headers;
  }
}

import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import type { PipelineRequest } from '../../common/pipeline-request';
import { RackBehaviours } from '../rack-behaviours';

declare module 'fastify' {
  interface FastifyRequest {
    /** What the rewrite of this request's body says of the change, for its audit intent (RewrittenRackRequest). */
    rackRewriteRecord?: Readonly<Record<string, unknown>>;
  }
}

/**
 * The rewrite stage of the pipeline, after MFA and before the audit stage: a route whose body the rack
 * must receive rewritten (a release's environment: masked values restored, protected keys held) has it
 * read and rewritten here rather than in the proxy, so the intent the audit stage commits next can say
 * what the change does, and a body the rewrite refuses is refused before any intent is written. Other
 * requests pass at no cost.
 */
@Injectable()
export class RackRequestRewriteGuard implements CanActivate {
  constructor(private readonly behaviours: RackBehaviours) {}

  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    const request = context.switchToHttp().getRequest<PipelineRequest>();
    const { rackDecision: decision, principal } = request;
    // A stage that read the body already (an approved build's form) forwards what it checked.
    if (!decision || !principal || request.rackBody) return true;
    const rewrite = this.behaviours.requestRewriteFor(decision);
    if (!rewrite) return true;
    return rewrite.rewrite(request.raw, decision, principal).then(({ body, recorded }) => {
      request.rackBody = body;
      request.rackRewriteRecord = recorded;
      return true;
    });
  }
}

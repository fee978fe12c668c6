import { type CallHandler, type ExecutionContext, Injectable, type NestInterceptor, ServiceUnavailableException } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { type Observable, from, switchMap } from 'rxjs';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { PipelineRequest } from '../common/pipeline-request';
import { PROXIED_TO_RACK } from '../rbac/decorators/proxied-to-rack.decorator';
import { AuditRecorder } from './audit-recorder.service';

/**
 * The audit stage of the pipeline, after every guard has allowed the request. A change to the rack
 * (any route whose action is not a read: writes, exec, run, file copies) is forwarded only once its
 * intent is committed to the trail; if it cannot be, the request is refused with 503 and the rack never
 * hears of it. Calls of the gateway's own API are recorded once answered. While the trail cannot keep
 * up at all, every request is refused rather than left unrecorded.
 */
@Injectable()
export class AuditInterceptor implements NestInterceptor {
  constructor(
    private readonly reflector: Reflector,
    private readonly recorder: AuditRecorder,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (!this.recorder.accepting) {
      throw new ServiceUnavailableException({
        code: 'audit_unavailable',
        message: 'the audit trail cannot record requests right now; try again shortly',
      });
    }
    const request = context.switchToHttp().getRequest<PipelineRequest>();
    if (this.reflector.get<boolean>(PROXIED_TO_RACK, context.getHandler())) {
      const decision = request.rackDecision;
      if (!decision || decision.route.action === 'read') return next.handle();
      return from(this.recorder.commitIntent(request, decision)).pipe(switchMap(() => next.handle()));
    }
    const startedAt = performance.now();
    const route = `${request.method} ${context.switchToHttp().getRequest<FastifyRequest>().routeOptions.url ?? request.url.split('?', 1)[0]}`;
    const reply = context.switchToHttp().getResponse<FastifyReply>();
    // Once answered, with the status actually sent; an error answer is recorded as a refusal instead.
    reply.raw.once('finish', () => {
      if (reply.statusCode < 400) this.recorder.recordApiRequest(request, route, reply.statusCode, performance.now() - startedAt);
    });
    return next.handle();
  }
}

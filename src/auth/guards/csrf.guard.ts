import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { PipelineRequest } from '../../common/pipeline-request';
import { InvalidCsrfTokenError } from '../auth.errors';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Cookie-authenticated state changes need the session's CSRF token (@fastify/csrf-protection). A
 * request carrying its own Basic or Bearer credential cannot be forged by another site, so needs none.
 */
@Injectable()
export class CsrfGuard implements CanActivate {
  async canActivate(context: ExecutionContext): Promise<boolean> {
    const pipelineRequest = context.switchToHttp().getRequest<PipelineRequest>();
    if (pipelineRequest.principal?.kind !== 'session' || SAFE_METHODS.has(pipelineRequest.method)) return true;
    // Sessions are only ever read from Fastify requests on the gateway's API.
    const request = pipelineRequest as FastifyRequest;
    await new Promise<void>((resolve, reject) => {
      // The plugin reports failure through reply.send; route it to Nest's error handling instead.
      const failureReply = { send: () => reject(new InvalidCsrfTokenError()) } as unknown as FastifyReply;
      request.server.csrfProtection(request, failureReply, () => resolve());
    });
    return true;
  }
}

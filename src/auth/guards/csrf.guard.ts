import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { InvalidCsrfTokenError } from '../auth.errors';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Cookie-authenticated state changes need the session's CSRF token (@fastify/csrf-protection). A
 * request carrying its own Basic or Bearer credential cannot be forged by another site, so needs none.
 */
@Injectable()
export class CsrfGuard implements CanActivate {
  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    if (request.principal?.kind !== 'session' || SAFE_METHODS.has(request.method)) return true;
    await new Promise<void>((resolve, reject) => {
      // The plugin reports failure through reply.send; route it to Nest's error handling instead.
      const failureReply = { send: () => reject(new InvalidCsrfTokenError()) } as unknown as FastifyReply;
      request.server.csrfProtection(request, failureReply, () => resolve());
    });
    return true;
  }
}

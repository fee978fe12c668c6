import { type ExecutionContext, createParamDecorator } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { SubjectFields } from '../permissions';

declare module 'fastify' {
  interface FastifyRequest {
    /** The instance an admin request acts on, as its @Authorize resolver found it for the policy guard. */
    authorizedSubject?: SubjectFields;
  }
}

/** The fields the policy guard authorized, so a handler acts on what was checked instead of looking again. */
export const AuthorizedSubject = createParamDecorator((_: unknown, context: ExecutionContext): SubjectFields => {
  const subject = context.switchToHttp().getRequest<FastifyRequest>().authorizedSubject;
  if (!subject) throw new Error('@AuthorizedSubject() on a route whose @Authorize names no resolver');
  return subject;
});

import { ExecutionContext, createParamDecorator } from '@nestjs/common';
import type { FastifyReply } from 'fastify';

/** A CSRF token of the caller's session (@fastify/csrf-protection), for a page to put in its forms. */
export const CsrfToken = createParamDecorator((_: unknown, context: ExecutionContext): string =>
  context.switchToHttp().getResponse<FastifyReply>().generateCsrf(),
);

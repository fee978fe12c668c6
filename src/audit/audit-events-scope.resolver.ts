import { Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { Principal } from '../auth/principal';
import type { SubjectFields } from '../rbac/permissions';
import type { SubjectResolver } from '../rbac/subject-resolver';
import { UsersService } from '../users/users.service';

/** Everyone's events: `actor=*`. */
export const EVERY_ACTOR = '*';

/**
 * Whose audit events a listing reads, for the policy guard: the caller's own by default, another
 * user's by email, or (`*`) everyone's, which only an unconditioned audit:read allows.
 */
@Injectable()
export class AuditEventsScope implements SubjectResolver {
  constructor(private readonly users: UsersService) {}

  async resolve(request: FastifyRequest, principal: Principal): Promise<SubjectFields> {
    const actor = (request.query as { actor?: unknown }).actor;
    if (actor === undefined) return { userId: principal.user.id };
    if (actor === EVERY_ACTOR) return {};
    const user = typeof actor === 'string' ? await this.users.findByEmail(actor) : null;
    return { userId: user?.id };
  }
}

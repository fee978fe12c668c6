import { Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { Principal } from '../auth/principal';
import type { SubjectFields } from './permissions';

/**
 * Finds the instance an admin request acts on, as the fields its permission's CASL conditions test
 * (whose token it is). A module provides one for its own subjects and names it in @Authorize; the
 * policy guard calls it before the handler runs. An instance that does not exist resolves to fields
 * no condition matches, so only holders of the unconditioned permission learn that it is missing.
 */
export interface SubjectResolver {
  resolve(request: FastifyRequest, principal: Principal): SubjectFields | Promise<SubjectFields>;
}

/** For routes that act on the caller's own instances, such as creating a token for oneself. */
@Injectable()
export class OwnedByCaller implements SubjectResolver {
  resolve(_request: FastifyRequest, principal: Principal): SubjectFields {
    return { userId: principal.user.id };
  }
}

/** For routes that act on everyone's instances at once (the whole audit chain): own-only grants do not reach. */
@Injectable()
export class EveryonesInstances implements SubjectResolver {
  resolve(): SubjectFields {
    return {};
  }
}

import { Injectable, ParseUUIDPipe } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { Principal } from '../auth/principal';
import type { SubjectFields } from '../rbac/permissions';
import type { SubjectResolver } from '../rbac/subject-resolver';
import { UsersService } from '../users/users.service';
import { TokensService } from './tokens.service';

/** `/tokens/:id`: the token's owner, so its owner and holders of the permission on every token pass. */
@Injectable()
export class TokenOwner implements SubjectResolver {
  private readonly uuid = new ParseUUIDPipe();

  constructor(private readonly tokens: TokensService) {}

  async resolve(request: FastifyRequest): Promise<SubjectFields> {
    // Guards run before pipes: the id is validated here, with the pipe's own answer, before it is looked up.
    const id = await this.uuid.transform((request.params as { id?: string }).id, { type: 'param', data: 'id' });
    return { userId: (id && (await this.tokens.findOwnerId(id))) || undefined };
  }
}

/** `GET /tokens?user=`: the user whose tokens are listed, the caller when none is named. */
@Injectable()
export class ListedTokensOwner implements SubjectResolver {
  constructor(private readonly users: UsersService) {}

  async resolve(request: FastifyRequest, principal: Principal): Promise<SubjectFields> {
    const email = (request.query as { user?: unknown }).user;
    if (email === undefined) return { userId: principal.user.id };
    const user = typeof email === 'string' ? await this.users.findByEmail(email) : null;
    return { userId: user?.id };
  }
}

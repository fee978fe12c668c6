import { Injectable, ParseUUIDPipe } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { FastifyRequest } from 'fastify';
import type { Repository } from 'typeorm';
import type { Principal } from '../auth/principal';
import type { SubjectFields } from '../rbac/permissions';
import type { SubjectResolver } from '../rbac/subject-resolver';
import { DeployApprovalRequestEntity } from './deploy-approval-request.entity';

/**
 * `/deploy-approval-requests/:id`: a request belongs to both the person who asked and the owner of its
 * token, so either passes an own-only grant; anyone else needs the grant on everyone's requests.
 */
@Injectable()
export class DeployApprovalParties implements SubjectResolver {
  private readonly uuid = new ParseUUIDPipe();

  constructor(@InjectRepository(DeployApprovalRequestEntity) private readonly requests: Repository<DeployApprovalRequestEntity>) {}

  async resolve(request: FastifyRequest, principal: Principal): Promise<SubjectFields> {
    // Guards run before pipes: the id is validated here, with the pipe's own answer, before it is looked up.
    const id = await this.uuid.transform((request.params as { id?: string }).id, { type: 'param', data: 'id' });
    const found = id ? await this.requests.findOne({ select: { requestedByUserId: true, targetTokenOwnerId: true }, where: { id } }) : null;
    if (!found) return { userId: undefined };
    const involved = found.requestedByUserId === principal.user.id || found.targetTokenOwnerId === principal.user.id;
    return { userId: involved ? principal.user.id : found.requestedByUserId };
  }
}

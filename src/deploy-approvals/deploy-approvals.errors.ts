import { BadRequestException, ConflictException, ForbiddenException, NotFoundException } from '@nestjs/common';
import type { DeployApprovalResponseDto } from './dto/deploy-approval-response.dto';

export class DeployApprovalNotFoundError extends NotFoundException {
  constructor(id: string) {
    super({ code: 'deploy_approval_not_found', message: `deploy approval request not found: ${id}` });
  }
}

/** A second ask for the same token, app and commit is answered with the open request. */
export class DeployApprovalExistsError extends ConflictException {
  constructor(existing: DeployApprovalResponseDto) {
    super({
      code: 'deploy_approval_exists',
      message: `an open deploy approval request for this token, app and commit exists: ${existing.id}`,
      extensions: { existing },
    });
  }
}

/** The request is not in a state that allows what was asked (approving a rejected one, say). */
export class DeployApprovalStateError extends ConflictException {
  constructor(message: string) {
    super({ code: 'deploy_approval_state', message });
  }
}

export class SeparationOfDutiesError extends ForbiddenException {
  constructor(message: string) {
    super({ code: 'separation_of_duties', message });
  }
}

export class InvalidDeployApprovalError extends BadRequestException {
  constructor(code: string, message: string) {
    super({ code, message });
  }
}

/** A CI token's rack request that no approved deploy admits; the message says what is missing. */
export class DeployNotApprovedError extends ForbiddenException {
  constructor(message: string) {
    super({ code: 'deploy_approval_required', message });
  }
}

/** A step of the approved deploy that was already taken, or is being taken now. */
export class DeployStepTakenError extends ConflictException {
  constructor(message: string) {
    super({ code: 'deploy_step_taken', message });
  }
}

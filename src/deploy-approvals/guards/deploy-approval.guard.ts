import { BadRequestException, CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import type { ServerResponse } from 'node:http';
import type { PipelineRequest } from '../../common/pipeline-request';
import { CLIENT_CLOSED_REQUEST } from '../../proxy/rack-settlement';
import type { AllowedRackRequest } from '../../rbac/rack-authorizer.service';
import type { DeployStep } from '../../rbac/rack-route-table';
import { readApprovedBuildForm } from '../build-form';
import { PermissionDeniedError } from '../../rbac/rbac.errors';
import { type AdmittedStep, type DeployCaller, DeploySteps } from '../deploy-steps.service';

declare module 'fastify' {
  interface FastifyRequest {
    /** The approved deploy this request is a step of, for the audit trail and the MFA stage. */
    deployApproval?: { readonly id: string; readonly step: DeployStep };
  }
}

/**
 * The deploy-approvals stage of the pipeline, after the policy and before MFA. A request the policy
 * allowed only under an approval (a CI token's upload, build, promote, run or exec) goes on only as
 * the next step of a deploy a person approved for this token, app and commit; the route's row names
 * the step. Anything else such a token tries is refused with the reason. Requests allowed outright
 * pass untouched, at no cost.
 */
@Injectable()
export class DeployApprovalGuard implements CanActivate {
  constructor(private readonly steps: DeploySteps) {}

  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    const request = context.switchToHttp().getRequest<PipelineRequest>();
    const decision = request.rackDecision;
    if (!decision?.underApproval) return true;
    return this.admit(request, decision, context.switchToHttp().getResponse<FastifyReply | undefined>()?.raw).then(() => true);
  }

  private async admit(request: PipelineRequest, decision: AllowedRackRequest, response: ServerResponse | undefined): Promise<void> {
    const principal = request.principal;
    const step = decision.route.deployStep;
    if (principal?.kind !== 'token' || decision.app === undefined || step === undefined) {
      throw new PermissionDeniedError(
        `permission denied: ${decision.route.method} ${decision.route.path} is not a step of an approved deploy (upload, build, promote, allowlisted run and exec)`,
      );
    }
    const caller: DeployCaller = { tokenId: principal.tokenId, app: decision.app, actor: principal.user.email };
    const admitted = await this.admitStep(step, caller, request, decision);
    request.deployApproval = { id: admitted.approvalId, step };
    const settlement = admitted.settlement;
    if (settlement && response) {
      request.rackSettlement = settlement;
      // The proxy settles with the rack's answer; a request that ends without one (a later stage refused
      // it, the client left) gives its step back here.
      response.once(
        'close',
        () => void settlement.settle(response.writableFinished ? response.statusCode : CLIENT_CLOSED_REQUEST, undefined),
      );
    }
  }

  private async admitStep(
    step: DeployStep,
    caller: DeployCaller,
    request: PipelineRequest,
    decision: AllowedRackRequest,
  ): Promise<AdmittedStep> {
    const segments = decision.target.path.split('/');
    switch (step) {
      case 'upload':
        // `/apps/{app}/objects/{key:.*}`: the key is the rest of the path.
        return this.steps.upload(caller, segments.slice(4).join('/'));
      case 'build': {
        await this.steps.assertApproved(caller, step);
        const form = await readApprovedBuildForm(request.raw, decision.target.query, caller.app);
        const admitted = await this.steps.build(caller, form);
        request.rackBody = form.body;
        return admitted;
      }
      case 'promote':
        return this.steps.promote(caller, segments[4]);
      case 'run':
        await this.steps.assertApproved(caller, step);
        assertCommandInHeaders(request, decision);
        return this.steps.runCommand(caller, headerValue(request, 'command'), { named: headerValue(request, 'release') ?? '' });
      case 'exec':
        await this.steps.assertApproved(caller, step);
        assertCommandInHeaders(request, decision);
        return this.steps.runCommand(caller, headerValue(request, 'command'), { ofProcess: segments[4] });
    }
  }
}

/**
 * The rack reads run and exec options from the form or query before their headers: under an approval
 * they come from headers only, so what is checked is what runs.
 */
function assertCommandInHeaders(request: PipelineRequest, decision: AllowedRackRequest): void {
  const hasBody = Number(request.headers['content-length'] ?? 0) > 0 || request.headers['transfer-encoding'] !== undefined;
  if ((decision.target.query !== null && decision.target.query !== '') || hasBody) {
    throw new BadRequestException({
      code: 'invalid_command_request',
      message: 'a command under a deploy approval is named in the Command header only, with no query or body',
    });
  }
}

function headerValue(request: PipelineRequest, name: string): string | undefined {
  const value = request.headers[name];
  return typeof value === 'string' ? value : undefined;
}

import { CanActivate, ExecutionContext, Injectable, type Type } from '@nestjs/common';
import { ModuleRef, Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import type { Principal } from '../../auth/principal';
import type { PipelineRequest } from '../../common/pipeline-request';
import { isGatewayPath } from '../../common/gateway-paths';
import { AbilityFactory } from '../ability.factory';
import { PROXIED_TO_RACK } from '../decorators/proxied-to-rack.decorator';
import { ACCESS_RULE, type AccessRule } from '../decorators/authorize.decorator';
import { type Action, type Subject, type SubjectFields, permissionName } from '../permissions';
import { type AllowedRackRequest, RackAuthorizer, type RefusedRackRequest } from '../rack-authorizer.service';
import { PermissionDeniedError } from '../rbac.errors';
import type { SubjectResolver } from '../subject-resolver';

declare module 'fastify' {
  interface FastifyRequest {
    /** For proxied requests: the matched rack route and the caller's ability, from the policy guard. */
    rackDecision?: AllowedRackRequest;
    /** For proxied requests the policy refused: why, and the route and app when one matched. */
    rackRefusal?: RefusedRackRequest;
  }
}

/**
 * Decides every authenticated request on the server: proxied ones by the rack route table, admin
 * routes by their @Authorize rule. An admin route without one is refused: nothing is reachable by
 * omission.
 */
@Injectable()
export class PolicyGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly moduleRef: ModuleRef,
    private readonly rackAuthorizer: RackAuthorizer,
    private readonly abilities: AbilityFactory,
  ) {}

  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    const request = context.switchToHttp().getRequest<PipelineRequest>();
    const principal = request.principal;
    if (!principal) return true;

    if (this.reflector.get<boolean>(PROXIED_TO_RACK, context.getHandler())) {
      // Unknown gateway paths land on the proxy's catch-all too; it answers them 404 itself.
      if (isGatewayPath(request.url)) return true;
      if (!request.rackTarget) throw new Error('rack request reached the policy without a parsed target');
      const decision = this.rackAuthorizer.authorize(principal, request.method, request.rackTarget);
      if (!decision.allowed) {
        request.rackRefusal = decision;
        throw new PermissionDeniedError(decision.reason);
      }
      request.rackDecision = decision;
      return true;
    }

    const rule = this.reflector.getAllAndOverride<AccessRule | undefined>(ACCESS_RULE, [context.getHandler(), context.getClass()]);
    if (!rule) throw new PermissionDeniedError('this route declares no permission');
    if (!rule.permission) return true;
    const { action, subject } = rule.permission;
    const ability = this.abilities.forPrincipal(principal);
    if (!rule.resolver) return allowedOrDenied(ability.can(action, subject), action, subject);
    const adminRequest = context.switchToHttp().getRequest<FastifyRequest>();
    return this.resolveSubject(rule.resolver, adminRequest, principal).then((fields) =>
      allowedOrDenied(ability.can(action, subject, fields), action, subject),
    );
  }

  private async resolveSubject(resolver: Type<SubjectResolver>, request: FastifyRequest, principal: Principal): Promise<SubjectFields> {
    const fields = await this.moduleRef.get(resolver, { strict: false }).resolve(request, principal);
    request.authorizedSubject = fields;
    return fields;
  }
}

function allowedOrDenied(allowed: boolean, action: Action, subject: Subject): true {
  if (!allowed) throw new PermissionDeniedError(`permission denied: ${permissionName(action, subject)}`);
  return true;
}

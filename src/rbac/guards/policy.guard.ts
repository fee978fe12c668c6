import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { PipelineRequest } from '../../common/pipeline-request';
import { isGatewayPath } from '../../common/gateway-paths';
import { AbilityFactory } from '../ability.factory';
import { PROXIED_TO_RACK } from '../decorators/proxied-to-rack.decorator';
import { REQUIRED_PERMISSION, RequiredPermission } from '../decorators/authorize.decorator';
import { permissionName } from '../permissions';
import { type AllowedRackRequest, RackAuthorizer } from '../rack-authorizer.service';
import { PermissionDeniedError } from '../rbac.errors';

declare module 'fastify' {
  interface FastifyRequest {
    /** For proxied requests: the matched rack route and the caller's ability, from the policy guard. */
    rackDecision?: AllowedRackRequest;
  }
}

/**
 * Decides every authenticated request on the server: proxied ones by the rack route table, admin
 * routes by their @Authorize permission. A route with neither needs only authentication (the caller's
 * own profile and tokens, where services scope what is returned to the caller).
 */
@Injectable()
export class PolicyGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly rackAuthorizer: RackAuthorizer,
    private readonly abilities: AbilityFactory,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<PipelineRequest>();
    const principal = request.principal;
    if (!principal) return true;

    // Unknown gateway paths land on the proxy's catch-all too; it answers them 404 itself.
    if (this.reflector.get<boolean>(PROXIED_TO_RACK, context.getHandler()) && !isGatewayPath(request.url)) {
      if (!request.rackTarget) throw new Error('rack request reached the policy without a parsed target');
      const decision = this.rackAuthorizer.authorize(principal, request.method, request.rackTarget);
      if (!decision.allowed) throw new PermissionDeniedError(decision.reason);
      request.rackDecision = decision;
      return true;
    }

    const required = this.reflector.getAllAndOverride<RequiredPermission | undefined>(REQUIRED_PERMISSION, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (required && !this.abilities.forPrincipal(principal).can(required.action, required.subject)) {
      throw new PermissionDeniedError(`permission denied: ${permissionName(required.action, required.subject)}`);
    }
    return true;
  }
}

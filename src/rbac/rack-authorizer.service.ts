import { Injectable } from '@nestjs/common';
import type { Principal } from '../auth/principal';
import { AbilityFactory } from './ability.factory';
import { APP_NAME } from './app-scope';
import { APP_SUBJECTS, permissionName } from './permissions';
import type { RackRequestTarget } from '../rack/rack-request-target';
import type { PrincipalAbility } from './principal-ability';
import { type RackRoute, matchRackRoute } from './rack-route-table';

export interface AllowedRackRequest {
  readonly allowed: true;
  /** The method decided on: `SOCKET` for a websocket. */
  readonly method: string;
  readonly route: RackRoute;
  /** The target decided on, which is also the one forwarded. */
  readonly target: RackRequestTarget;
  /** The app the request touches, validated; undefined for rack-level routes. */
  readonly app: string | undefined;
  readonly ability: PrincipalAbility;
  /**
   * Allowed only as a step of an approved deploy (a CI token's upload, build, promote): the
   * deploy-approvals stage must admit it against an approval, or it is refused there.
   */
  readonly underApproval: boolean;
}

/** A refusal names the route and app it was about when a route matched, for the record. */
export interface RefusedRackRequest {
  readonly allowed: false;
  readonly reason: string;
  readonly route?: RackRoute;
  readonly app?: string;
}

export type RackDecision = AllowedRackRequest | RefusedRackRequest;

/**
 * Decides a proxied request from its method and path alone, before the rack hears of it: the route
 * table names the permission, the caller's ability (token ∩ owner, per app) grants it or not. The path
 * is the decoded one the rack's router matches (RackRequestGuard parsed it).
 */
@Injectable()
export class RackAuthorizer {
  constructor(private readonly abilities: AbilityFactory) {}

  authorize(principal: Principal, method: string, target: RackRequestTarget): RackDecision {
    const matched = matchRackRoute(method, target.path);
    if (!matched) return { allowed: false, reason: `the gateway does not allow ${method} ${target.path}` };

    const { route, app } = matched;
    if (app !== undefined && !APP_NAME.test(app)) return { allowed: false, reason: `invalid app name: ${app}`, route };

    const ability = this.abilities.forPrincipal(principal);
    const fields = !route.lists && APP_SUBJECTS.has(route.subject) ? { app } : undefined;
    if (ability.can(route.action, route.subject, fields))
      return { allowed: true, method, route, target, app, ability, underApproval: false };
    if (!route.lists && ability.canUnderApproval(route.action, route.subject, fields)) {
      return { allowed: true, method, route, target, app, ability, underApproval: true };
    }
    const reason = `permission denied: ${permissionName(route.action, route.subject)}${app ? ` on app ${app}` : ''}`;
    return { allowed: false, reason, route, app };
  }
}

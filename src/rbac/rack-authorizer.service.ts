import { Injectable } from '@nestjs/common';
import type { Principal } from '../auth/principal';
import { AbilityFactory } from './ability.factory';
import { APP_NAME } from './app-scope';
import { APP_SUBJECTS, permissionName } from './permissions';
import type { PrincipalAbility } from './principal-ability';
import { type RackRoute, matchRackRoute } from './rack-route-table';

export interface AllowedRackRequest {
  readonly allowed: true;
  readonly route: RackRoute;
  /** The app the request touches, decoded and validated; undefined for rack-level routes. */
  readonly app: string | undefined;
  readonly ability: PrincipalAbility;
}

export type RackDecision = AllowedRackRequest | { readonly allowed: false; readonly reason: string };

/**
 * Decides a proxied request from its method and path alone, before the rack hears of it: the route
 * table names the permission, the caller's ability (token ∩ owner, per app) grants it or not.
 */
@Injectable()
export class RackAuthorizer {
  constructor(private readonly abilities: AbilityFactory) {}

  authorize(principal: Principal, method: string, url: string): RackDecision {
    const path = url.split('?', 1)[0];
    const matched = matchRackRoute(method, path);
    if (!matched) return { allowed: false, reason: `the gateway does not allow ${method} ${path}` };

    const { route } = matched;
    let app: string | undefined;
    if (matched.app !== undefined) {
      app = decodeAppName(matched.app);
      if (app === undefined) return { allowed: false, reason: `invalid app name: ${matched.app}` };
    }

    const ability = this.abilities.forPrincipal(principal);
    const allowed = route.lists
      ? ability.can(route.action, route.subject)
      : APP_SUBJECTS.has(route.subject)
        ? ability.can(route.action, route.subject, { app })
        : ability.can(route.action, route.subject);
    if (!allowed) {
      return { allowed: false, reason: `permission denied: ${permissionName(route.action, route.subject)}${app ? ` on app ${app}` : ''}` };
    }
    return { allowed: true, route, app, ability };
  }
}

function decodeAppName(raw: string): string | undefined {
  try {
    const decoded = decodeURIComponent(raw);
    return APP_NAME.test(decoded) ? decoded : undefined;
  } catch {
    return undefined;
  }
}

import { Injectable } from '@nestjs/common';
import type { Principal } from '../auth/principal';
import { AbilityFactory } from './ability.factory';
import { scopeWithin } from './app-scope';
import type { Action, Subject } from './permissions';
import { permissionName } from './permissions';
import { PermissionDeniedError } from './rbac.errors';
import { type Role, grantsOf } from './roles';

/** A token may be narrower than whoever mints it, never wider. */
@Injectable()
export class TokenScopePolicy {
  constructor(private readonly abilities: AbilityFactory) {}

  assertWithinCreator(creator: Principal, role: Role | null, appScopes: readonly string[] | null): void {
    const ability = this.abilities.forPrincipal(creator);
    if (role) {
      for (const grant of grantsOf(role)) {
        for (const action of ([] as Action[]).concat(grant.action)) {
          for (const subject of ([] as Subject[]).concat(grant.subject)) {
            if (!ability.can(action, subject)) {
              throw new PermissionDeniedError(`a ${role} token needs ${permissionName(action, subject)}, which you do not hold`);
            }
          }
        }
      }
    }
    const creatorScopes = [creator.user.appScopes, creator.kind === 'token' ? (creator.scope?.appScopes ?? null) : null];
    const requested = appScopes ?? null;
    if (!creatorScopes.every((scope) => scopeWithin(requested, scope))) {
      throw new PermissionDeniedError('a token cannot reach apps outside your own app scope');
    }
  }
}

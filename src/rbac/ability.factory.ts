import { Injectable } from '@nestjs/common';
import type { Principal } from '../auth/principal';
import type { AppAbility } from './permissions';
import { PrincipalAbility, type RoleBinding, abilityOf } from './principal-ability';

/**
 * The one place abilities are built. Abilities depend only on role and app scopes, so they are
 * memoised by that key: a changed user simply maps to another key, and nothing needs invalidating.
 */
@Injectable()
export class AbilityFactory {
  private readonly cache = new Map<string, AppAbility>();

  forPrincipal(principal: Principal): PrincipalAbility {
    const owner = this.forBinding({ role: principal.user.role, appScopes: principal.user.appScopes });
    if (principal.kind !== 'token' || !principal.scope) return new PrincipalAbility([owner]);
    return new PrincipalAbility([owner, this.forBinding(principal.scope)]);
  }

  private forBinding(binding: RoleBinding): AppAbility {
    const key = `${binding.role}|${binding.appScopes?.join(',') ?? '*'}`;
    let ability = this.cache.get(key);
    if (!ability) {
      ability = abilityOf(binding);
      this.cache.set(key, ability);
    }
    return ability;
  }
}

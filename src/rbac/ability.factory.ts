import { Injectable } from '@nestjs/common';
import type { Principal } from '../auth/principal';
import type { AppAbility } from './permissions';
import { PrincipalAbility, type RoleBinding, abilityOf } from './principal-ability';

/**
 * The one place abilities are built. Abilities depend only on role and app scopes (the owner's and
 * the token's), so they are memoised by those: a changed user simply maps to another key, and nothing
 * needs invalidating. There are few distinct keys (roles × scope lists), so the maps stay small.
 */
@Injectable()
export class AbilityFactory {
  private readonly cache = new Map<string, AppAbility>();
  private readonly principals = new Map<string, PrincipalAbility>();
  /** Token principals are reused while their token is cached, so the keys below need not be rebuilt. */
  private readonly byPrincipal = new WeakMap<Principal, PrincipalAbility>();

  forPrincipal(principal: Principal): PrincipalAbility {
    let ability = this.byPrincipal.get(principal);
    if (!ability) {
      ability = this.forBindings(principal);
      this.byPrincipal.set(principal, ability);
    }
    return ability;
  }

  private forBindings(principal: Principal): PrincipalAbility {
    const ownerKey = bindingKey({ role: principal.user.role, appScopes: principal.user.appScopes });
    const tokenScope = principal.kind === 'token' ? principal.scope : null;
    const key = tokenScope ? `${ownerKey}&${bindingKey(tokenScope)}` : ownerKey;
    let ability = this.principals.get(key);
    if (!ability) {
      const owner = this.forBinding({ role: principal.user.role, appScopes: principal.user.appScopes });
      ability = new PrincipalAbility(tokenScope ? [owner, this.forBinding(tokenScope)] : [owner]);
      this.principals.set(key, ability);
    }
    return ability;
  }

  private forBinding(binding: RoleBinding): AppAbility {
    const key = bindingKey(binding);
    let ability = this.cache.get(key);
    if (!ability) {
      ability = abilityOf(binding);
      this.cache.set(key, ability);
    }
    return ability;
  }
}

function bindingKey(binding: RoleBinding): string {
  return `${binding.role}|${binding.appScopes?.join(',') ?? '*'}`;
}

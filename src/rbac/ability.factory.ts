import { Injectable } from '@nestjs/common';
import type { Principal } from '../auth/principal';
import { type BindingAbilities, PrincipalAbility, type RoleBinding, abilityOf } from './principal-ability';

/**
 * The one place abilities are built. An ability depends only on its holder's user id (own-only grants),
 * role and app scopes (the owner's and the token's), so abilities are memoised by those: a changed user
 * simply maps to another key, and nothing needs invalidating. There is about one key per user and
 * token scope; the maps are emptied if they ever outgrow that.
 */
@Injectable()
export class AbilityFactory {
  private readonly cache = new Map<string, BindingAbilities>();
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
    const userId = principal.user.id;
    const owner: RoleBinding = { role: principal.user.role, appScopes: principal.user.appScopes };
    const tokenScope = principal.kind === 'token' ? principal.scope : null;
    const key = tokenScope ? `${bindingKey(userId, owner)}&${bindingKey(userId, tokenScope)}` : bindingKey(userId, owner);
    let ability = this.principals.get(key);
    if (!ability) {
      const bindings = tokenScope ? [owner, tokenScope] : [owner];
      ability = new PrincipalAbility(bindings.map((binding) => this.forBinding(userId, binding)));
      remember(this.principals, key, ability);
    }
    return ability;
  }

  private forBinding(userId: string, binding: RoleBinding): BindingAbilities {
    const key = bindingKey(userId, binding);
    let abilities = this.cache.get(key);
    if (!abilities) {
      abilities = { direct: abilityOf(binding, userId), underApproval: abilityOf(binding, userId, { underApproval: true }) };
      remember(this.cache, key, abilities);
    }
    return abilities;
  }
}

/** Far more than a gateway's users and token scopes: reaching it means keys are churning, not reused. */
const MAX_REMEMBERED_ABILITIES = 10_000;

function remember<T>(map: Map<string, T>, key: string, value: T): void {
  if (map.size >= MAX_REMEMBERED_ABILITIES) map.clear();
  map.set(key, value);
}

function bindingKey(userId: string, binding: RoleBinding): string {
  return `${userId}|${binding.role}|${binding.appScopes?.join(',') ?? '*'}`;
}

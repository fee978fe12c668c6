import { AbilityBuilder, type MongoQuery, createMongoAbility, subject as asSubject } from '@casl/ability';
import { APP_SUBJECTS, AppAbility, type Action, type Subject, type SubjectFields } from './permissions';
import { appScopeRegExp } from './app-scope';
import { type Role, grantsOf } from './roles';

/** A role and the apps it is limited to (null: every app). */
export interface RoleBinding {
  readonly role: Role;
  readonly appScopes: readonly string[] | null;
}

/**
 * The CASL ability of one role binding held by one user: the role's grants, app subjects conditioned
 * on the binding's apps, and own-only grants on the user's id. Under-approval grants are left out
 * unless asked for: they hold only for a request the deploy-approvals gate admits.
 */
export function abilityOf(binding: RoleBinding, userId: string, { underApproval = false } = {}): AppAbility {
  const { can, build } = new AbilityBuilder<AppAbility>(createMongoAbility);
  // Subjects are plain type names, so CASL cannot infer their fields; conditions are typed by hand.
  const appCondition = binding.appScopes === null ? {} : { app: { $regex: appScopeRegExp(binding.appScopes) } };
  for (const grant of grantsOf(binding.role)) {
    if (grant.underApproval && !underApproval) continue;
    const actions = ([] as Action[]).concat(grant.action);
    for (const subject of ([] as Subject[]).concat(grant.subject)) {
      const conditions = { ...(APP_SUBJECTS.has(subject) ? appCondition : {}), ...(grant.ownOnly ? { userId } : {}) };
      if (Object.keys(conditions).length > 0) can(actions, subject, conditions as unknown as MongoQuery<never>);
      else can(actions, subject);
    }
  }
  return build();
}

/** One role binding's abilities: what it grants outright, and that plus what it grants within an approved deploy. */
export interface BindingAbilities {
  readonly direct: AppAbility;
  readonly underApproval: AppAbility;
}

/**
 * What a principal may do. A token's ability is its owner's current ability intersected with the
 * token's own scope, so demoting or re-scoping the owner narrows every token at once.
 */
export class PrincipalAbility {
  /** Answers already worked out: the same few questions recur on every request of a caller. */
  private readonly answers = new Map<string, boolean>();
  private readonly abilities: readonly AppAbility[];
  private readonly abilitiesUnderApproval: readonly AppAbility[];

  constructor(bindings: readonly BindingAbilities[]) {
    this.abilities = bindings.map((binding) => binding.direct);
    this.abilitiesUnderApproval = bindings.map((binding) => binding.underApproval);
  }

  /**
   * Whether the caller could do this as a step of an approved deploy, though not outright (a CI
   * token's upload, build or promote). Asked only of requests `can` refused.
   */
  canUnderApproval(action: Action, subject: Subject, target?: SubjectFields): boolean {
    const checked = target === undefined ? subject : asSubject(subject, { ...target });
    return this.abilitiesUnderApproval.every((ability) => ability.can(action, checked as never));
  }

  /**
   * With an app (or `{ app: undefined }` for app subjects the request names no app of), conditions
   * apply; with none, it asks whether the caller may do this to any instance at all (list routes).
   */
  can(action: Action, subject: Subject, target?: SubjectFields): boolean {
    const key =
      target === undefined
        ? `${action}|${subject}`
        : `${action}|${subject}|${target.app ?? ''}|${target.userId ?? ''}|${'app' in target ? 1 : 0}`;
    let answer = this.answers.get(key);
    if (answer === undefined) {
      const checked = target === undefined ? subject : asSubject(subject, { ...target });
      answer = this.abilities.every((ability) => ability.can(action, checked as never));
      if (this.answers.size < MAX_REMEMBERED_ANSWERS) this.answers.set(key, answer);
    }
    return answer;
  }
}

const MAX_REMEMBERED_ANSWERS = 1_000;

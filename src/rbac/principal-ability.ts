import { AbilityBuilder, type MongoQuery, createMongoAbility, subject as asSubject } from '@casl/ability';
import { APP_SUBJECTS, AppAbility, type Action, type Subject } from './permissions';
import { appScopeRegExp } from './app-scope';
import { type Role, grantsOf } from './roles';

/** A role and the apps it is limited to (null: every app). */
export interface RoleBinding {
  readonly role: Role;
  readonly appScopes: readonly string[] | null;
}

/** The CASL ability of one role binding: the role's grants, app subjects conditioned on its apps. */
export function abilityOf(binding: RoleBinding): AppAbility {
  const { can, build } = new AbilityBuilder<AppAbility>(createMongoAbility);
  // Subjects are plain type names, so CASL cannot infer their fields; the condition is typed by hand.
  const appCondition =
    binding.appScopes === null ? undefined : ({ app: { $regex: appScopeRegExp(binding.appScopes) } } as unknown as MongoQuery<never>);
  for (const grant of grantsOf(binding.role)) {
    const actions = ([] as Action[]).concat(grant.action);
    for (const subject of ([] as Subject[]).concat(grant.subject)) {
      if (appCondition && APP_SUBJECTS.has(subject)) can(actions, subject, appCondition);
      else can(actions, subject);
    }
  }
  return build();
}

/**
 * What a principal may do. A token's ability is its owner's current ability intersected with the
 * token's own scope, so demoting or re-scoping the owner narrows every token at once.
 */
export class PrincipalAbility {
  /** Answers already worked out: the same few questions recur on every request of a caller. */
  private readonly answers = new Map<string, boolean>();

  constructor(private readonly abilities: readonly AppAbility[]) {}

  /**
   * With an app (or `{ app: undefined }` for app subjects the request names no app of), conditions
   * apply; with none, it asks whether the caller may do this to any instance at all (list routes).
   */
  can(action: Action, subject: Subject, target?: { app?: string; userId?: string }): boolean {
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

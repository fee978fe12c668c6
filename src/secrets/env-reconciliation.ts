import { MASK, formatEnv, parseEnv } from './secret-values';

/** Which keys a release changes against the one it is based on: names only, never values. */
export interface EnvKeyChanges {
  readonly added: readonly string[];
  readonly changed: readonly string[];
  readonly removed: readonly string[];
}

export type EnvReconciliation =
  | { readonly ok: true; readonly env: string; readonly changes: EnvKeyChanges }
  | { readonly ok: false; readonly status: 400 | 403; readonly reason: string };

/**
 * A release carries the whole environment. What a caller posts back may hold masked values (they saw
 * the env masked): those mean "keep the current value" and are restored from the base release, never
 * written as asterisks. Protected keys may not change at all.
 */
export function reconcileEnv(posted: string, base: string, protectedKeys: ReadonlySet<string>): EnvReconciliation {
  const baseEntries = parseEnv(base);
  const entries = parseEnv(posted);
  for (const [key, value] of entries) {
    if (value !== MASK) continue;
    const current = baseEntries.get(key);
    if (current === undefined)
      return { ok: false, status: 400, reason: `${key} is set to the mask placeholder ${MASK}, which is not a value` };
    entries.set(key, current);
  }
  const changes = {
    added: [...entries.keys()].filter((key) => !baseEntries.has(key)).sort(),
    changed: [...entries.keys()].filter((key) => baseEntries.has(key) && entries.get(key) !== baseEntries.get(key)).sort(),
    removed: [...baseEntries.keys()].filter((key) => !entries.has(key)).sort(),
  };
  const protectedChanges = [...changes.added, ...changes.changed, ...changes.removed].filter((key) => protectedKeys.has(key)).sort();
  if (protectedChanges.length > 0)
    return { ok: false, status: 403, reason: `protected env keys cannot be changed through the gateway: ${protectedChanges.join(', ')}` };
  return { ok: true, env: formatEnv(entries), changes };
}

/** Whether the release changes the environment at all. */
export function changesEnv({ added, changed, removed }: EnvKeyChanges): boolean {
  return added.length + changed.length + removed.length > 0;
}

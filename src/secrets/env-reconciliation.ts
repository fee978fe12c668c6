import { MASK, formatEnv, parseEnv } from './secret-values';

export type EnvReconciliation =
  | { readonly ok: true; readonly env: string; readonly changedKeys: readonly string[] }
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
  const changedKeys = [...new Set([...entries.keys(), ...baseEntries.keys()])]
    .filter((key) => entries.get(key) !== baseEntries.get(key))
    .sort();
  const protectedChanges = changedKeys.filter((key) => protectedKeys.has(key));
  if (protectedChanges.length > 0)
    return { ok: false, status: 403, reason: `protected env keys cannot be changed through the gateway: ${protectedChanges.join(', ')}` };
  return { ok: true, env: formatEnv(entries), changedKeys };
}

import type { StringMap } from './rack-structs';

/** structs.Environment.Load: one KEY=VALUE per line, split at the first `=`, blank keys ignored. */
export function parseEnvironment(text: string): Map<string, string> {
  const env = new Map<string, string>();
  for (const line of text.trim().split(/\r?\n/)) {
    const separator = line.indexOf('=');
    if (separator < 0) continue;
    const key = line.slice(0, separator).trim();
    if (key !== '') env.set(key, line.slice(separator + 1));
  }
  return env;
}

export function environmentMap(text: string): StringMap {
  return Object.fromEntries(parseEnvironment(text));
}

/** pkg/common EnvDiff: key names only, so the release description never carries a value. */
export function describeEnvChange(before: string, after: string): string {
  const a = parseEnvironment(before);
  const b = parseEnvironment(after);
  const adds = [...b.keys()].filter((key) => !a.has(key)).sort();
  const changes = [...b.keys()].filter((key) => a.has(key) && a.get(key) !== b.get(key)).sort();
  const removes = [...a.keys()].filter((key) => !b.has(key)).sort();
  return [...adds.map((key) => `add:${key}`), ...changes.map((key) => `change:${key}`), ...removes.map((key) => `remove:${key}`)].join(' ');
}

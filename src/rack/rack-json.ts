/**
 * The JSON a rack answer's body carries, or undefined when it is not JSON: the rack's answers are read
 * as hostile as anything else (a proxy or a broken rack may answer 200 with HTML, or with nothing).
 */
export function parseRackJson(body: string): unknown {
  try {
    return JSON.parse(body) as unknown;
  } catch {
    return undefined;
  }
}

/** The JSON object a rack answer's body carries, or undefined when it carries anything else. */
export function rackObject(body: string): Record<string, unknown> | undefined {
  const value = parseRackJson(body);
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

/**
 * Requests counted by route class, decision and status in plain maps, read into the requests counter
 * when it is scraped. A prom-client increment builds and hashes a label string each time (about a
 * microsecond, measured); a map update is a few dozen nanoseconds, which is what each exchange pays.
 */
export class RequestTally {
  private readonly counts = new Map<string, Map<string, Map<number, number>>>();

  add(routeClass: string, decision: string, status: number): void {
    let byDecision = this.counts.get(routeClass);
    if (!byDecision) this.counts.set(routeClass, (byDecision = new Map<string, Map<number, number>>()));
    let byStatus = byDecision.get(decision);
    if (!byStatus) byDecision.set(decision, (byStatus = new Map<number, number>()));
    byStatus.set(status, (byStatus.get(status) ?? 0) + 1);
  }

  *entries(): Generator<{ routeClass: string; decision: string; status: number; count: number }> {
    for (const [routeClass, byDecision] of this.counts) {
      for (const [decision, byStatus] of byDecision) {
        for (const [status, count] of byStatus) yield { routeClass, decision, status, count };
      }
    }
  }
}

/**
 * What the gateway decided, read from the status it answered with: a refusal's status names its kind
 * (the pipeline's stages each refuse with their own), and anything below 400 went through.
 */
export function decisionOf(status: number): string {
  if (status < 400) return 'allowed';
  switch (status) {
    case 401:
      return 'unauthenticated';
    case 403:
      return 'denied';
    case 429:
      return 'rate_limited';
    case 503:
      return 'unavailable';
    default:
      return status < 500 ? 'invalid' : 'error';
  }
}

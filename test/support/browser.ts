/**
 * A minimal browser for end-to-end tests: keeps cookies per origin and follows redirects by hand, so
 * tests can watch every hop of a sign-in.
 */
export class Browser {
  private readonly cookies = new Map<string, Map<string, string>>();

  async get(url: string, headers: Record<string, string> = {}): Promise<Response> {
    return this.request(url, { method: 'GET', headers });
  }

  async request(url: string, init: RequestInit & { headers?: Record<string, string> } = {}): Promise<Response> {
    const origin = new URL(url).origin;
    const jar = this.cookies.get(origin);
    const cookie = jar ? [...jar].map(([name, value]) => `${name}=${value}`).join('; ') : undefined;
    const response = await fetch(url, { ...init, redirect: 'manual', headers: { ...init.headers, ...(cookie ? { cookie } : {}) } });
    for (const header of response.headers.getSetCookie()) this.store(origin, header);
    return response;
  }

  /** Follows redirects across origins (gateway, then provider, then gateway) until a non-redirect. */
  async follow(url: string, maxHops = 10): Promise<{ response: Response; hops: string[] }> {
    const hops = [url];
    let response = await this.get(url);
    while (response.status >= 300 && response.status < 400 && hops.length <= maxHops) {
      const next = new URL(response.headers.get('location') ?? '', hops[hops.length - 1]).toString();
      hops.push(next);
      response = await this.get(next);
    }
    return { response, hops };
  }

  /** Puts a cookie in the jar as another site or a cookie-tossing attacker could. */
  setCookie(origin: string, name: string, value: string): void {
    this.store(origin, `${name}=${value}`);
  }

  cookie(origin: string, name: string): string | undefined {
    return this.cookies.get(origin)?.get(name);
  }

  private store(origin: string, header: string): void {
    const [pair, ...attributes] = header.split(';');
    const separator = pair.indexOf('=');
    const name = pair.slice(0, separator).trim();
    const value = pair.slice(separator + 1).trim();
    const jar = this.cookies.get(origin) ?? new Map<string, string>();
    this.cookies.set(origin, jar);
    const expired = attributes.some((attribute) => /^\s*expires=Thu, 01 Jan 1970/i.test(attribute) || /^\s*max-age=0\b/i.test(attribute));
    if (expired || value === '') jar.delete(name);
    else jar.set(name, value);
  }
}

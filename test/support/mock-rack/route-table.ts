/**
 * A gorilla/mux look-alike: routes are tried in registration order against the decoded path, with no path
 * cleaning (the rack sets SkipClean). A variable matches one segment unless it carries its own pattern,
 * as object keys do (`{key:.*}`).
 */

export type RouteMethod = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'DELETE' | 'OPTIONS' | 'SOCKET';

export type PathVars = Readonly<Record<string, string>>;

const VARIABLE = /\{([A-Za-z_][A-Za-z0-9_-]*)(?::([^}]*))?\}/g;

export class PathPattern {
  private readonly regex: RegExp;
  private readonly names: string[] = [];

  constructor(readonly template: string) {
    let source = '';
    let cursor = 0;
    for (const match of template.matchAll(VARIABLE)) {
      source += escapeRegex(template.slice(cursor, match.index));
      source += `(${match[2] ?? '[^/]+'})`;
      this.names.push(match[1]);
      cursor = match.index + match[0].length;
    }
    source += escapeRegex(template.slice(cursor));
    this.regex = new RegExp(`^${source}$`);
  }

  get hasVariables(): boolean {
    return this.names.length > 0;
  }

  match(path: string): PathVars | null {
    const match = this.regex.exec(path);
    if (!match) return null;
    const vars: Record<string, string> = {};
    this.names.forEach((name, index) => {
      vars[name] = match[index + 1];
    });
    return vars;
  }
}

export interface RouteDefinition<Handler> {
  readonly method: RouteMethod;
  readonly pattern: PathPattern;
  readonly handler: Handler;
  /** `POST /apps/{app}/objects/{key:.*}`, as recorded in the journal. */
  readonly label: string;
}

export type RouteResolution<Handler> =
  { outcome: 'matched'; route: RouteDefinition<Handler>; vars: PathVars } | { outcome: 'method-not-allowed' } | { outcome: 'not-found' };

export class RouteTable<Handler> {
  private readonly routes: RouteDefinition<Handler>[] = [];

  add(method: RouteMethod, template: string, handler: Handler): this {
    this.routes.push({ method, pattern: new PathPattern(template), handler, label: `${method} ${template}` });
    return this;
  }

  /**
   * A SOCKET route is mux's `Methods("GET").Headers("Upgrade", "websocket")`: without the upgrade header it
   * simply does not match (so 404), while a wrong method on a matching path yields 405, as mux does.
   */
  resolve(method: string, path: string, websocketUpgrade: boolean): RouteResolution<Handler> {
    let methodMismatch = false;
    for (const route of this.routes) {
      const vars = route.pattern.match(path);
      if (!vars) continue;
      if (route.method === 'SOCKET') {
        if (!websocketUpgrade) continue;
        if (method === 'GET') return { outcome: 'matched', route, vars };
        methodMismatch = true;
        continue;
      }
      if (route.method === method) return { outcome: 'matched', route, vars };
      methodMismatch = true;
    }
    return methodMismatch ? { outcome: 'method-not-allowed' } : { outcome: 'not-found' };
  }
}

function escapeRegex(literal: string): string {
  return literal.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { RACK_ROUTES, matchRackRoute } from './rack-route-table';
import { describeRoles } from './role-catalogue';

/** Every route of the rack API and of the CLI, as recorded in the fixture. */
const RACK_API = readFileSync(resolve(__dirname, '../../test/fixtures/convox-rack-routes.txt'), 'utf8')
  .split('\n')
  .filter((line) => line && !line.startsWith('#'))
  .map((line) => {
    const [method, path] = line.split(' ');
    return { method, path };
  });

/** A concrete request path for a route pattern. */
function samplePath(pattern: string): string {
  return pattern
    .replace('{key:.*}', 'tmp/0123456789abcdef.tgz')
    .replace('{server:.*}', 'registry.example.com')
    .replace(/\{path:\.\*\}/, 'some/deep/path')
    .replace(/\{(app|name)\}/g, 'myapp')
    .replace(/\{\w+\}/g, 'X1');
}

describe('the rack route table', () => {
  it('knows every route of the rack API and the CLI', () => {
    expect(RACK_API.length).toBeGreaterThan(110);
    const missing = RACK_API.filter(({ method, path }) => {
      const methods = method === 'ANY' ? ['GET', 'POST', 'PUT', 'DELETE'] : [method];
      return !methods.every((candidate) => matchRackRoute(candidate, samplePath(path)));
    });
    expect(missing).toEqual([]);
  });

  it('matches each route to the row written for it, not to a broader one', () => {
    for (const { method, path } of RACK_API) {
      if (method === 'ANY') continue;
      expect(`${method} ${path} -> ${matchRackRoute(method, samplePath(path))?.route.path}`).toBe(`${method} ${path} -> ${path}`);
    }
  });

  it('refuses what no row describes', () => {
    expect(matchRackRoute('GET', '/nope')).toBeUndefined();
    expect(matchRackRoute('PATCH', '/apps/myapp')).toBeUndefined();
    expect(matchRackRoute('GET', '/apps/myapp/processes/p1/exec')).toBeUndefined();
    expect(matchRackRoute('DELETE', '/certificates')).toBeUndefined();
  });

  it('finds the app a request touches', () => {
    expect(matchRackRoute('GET', '/apps/shop/releases')?.app).toBe('shop');
    expect(matchRackRoute('DELETE', '/apps/shop')?.app).toBe('shop');
    expect(matchRackRoute('SOCKET', '/apps/shop/logs')?.app).toBe('shop');
    expect(matchRackRoute('GET', '/apps')?.app).toBeUndefined();
    expect(matchRackRoute('DELETE', '/resources/db/links/shop')?.app).toBe('shop');
    expect(matchRackRoute('GET', '/system')?.app).toBeUndefined();
  });

  it('has no two rows for the same method and path', () => {
    const keys = RACK_ROUTES.map((route) => `${route.method} ${route.path}`);
    expect(new Set(keys).size).toBe(keys.length);
  });

  // A change to this snapshot is a change of who may do what: review it as such.
  it('grants each role exactly these permissions and rack routes', () => {
    expect(describeRoles()).toMatchSnapshot();
  });
});

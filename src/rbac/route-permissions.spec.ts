import { RequestMethod } from '@nestjs/common';
import { GUARDS_METADATA, METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { IS_PUBLIC } from '../auth/decorators/public.decorator';
import { ACCESS_RULE, type AccessRule } from './decorators/authorize.decorator';
import { PROXIED_TO_RACK } from './decorators/proxied-to-rack.decorator';

type Constructor = new (...args: never[]) => unknown;

/** Every controller class under src/, found by file name so a new one cannot be forgotten. */
function controllers(): Constructor[] {
  const root = join(__dirname, '..');
  const files = readdirSync(root, { recursive: true, encoding: 'utf8' }).filter((file) => file.endsWith('.controller.ts'));
  return files.flatMap((file) =>
    // Loaded by path so that a controller added later is walked without editing this spec.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    Object.values(require(join(root, file)) as Record<string, unknown>).filter(
      (value): value is Constructor => typeof value === 'function',
    ),
  );
}

function describeRoute(controller: Constructor, handlerName: string): string | undefined {
  const handler = (controller.prototype as Record<string, unknown>)[handlerName];
  if (handlerName === 'constructor' || typeof handler !== 'function' || Reflect.getMetadata(PATH_METADATA, handler) === undefined)
    return undefined;
  const base = String(Reflect.getMetadata(PATH_METADATA, controller) ?? '');
  const path = String(Reflect.getMetadata(PATH_METADATA, handler));
  const method = RequestMethod[Reflect.getMetadata(METHOD_METADATA, handler) as number];
  const metadata = (key: string) => (Reflect.getMetadata(key, handler) ?? Reflect.getMetadata(key, controller)) as unknown;
  const rule = metadata(ACCESS_RULE) as AccessRule | undefined;
  const access = metadata(IS_PUBLIC)
    ? 'public'
    : metadata(PROXIED_TO_RACK)
      ? 'authenticated, rack route table'
      : !rule
        ? 'REFUSED: no @Authorize'
        : rule.permission
          ? `authenticated, ${rule.permission.subject}:${rule.permission.action}${rule.resolver ? ` (instance from ${rule.resolver.name})` : ''}`
          : 'authenticated, any caller';
  // A route's own guards add to its access rule (the metrics token), so they show here too.
  const guards = ((metadata(GUARDS_METADATA) ?? []) as Constructor[]).map((guard) => ` + ${guard.name}`).join('');
  const fullPath = `/${base}/${path}`.replace(/\/+/g, '/').replace(/(.)\/$/, '$1');
  return `${method} ${fullPath} (${controller.name}.${handlerName}): ${access}${guards}`;
}

describe('route permissions', () => {
  // A change to this snapshot changes who may reach what: review it as a permission change.
  it('are declared on every route', () => {
    const routes = controllers().flatMap((controller) =>
      Object.getOwnPropertyNames(controller.prototype).flatMap((name) => describeRoute(controller, name) ?? []),
    );
    expect(routes.length).toBeGreaterThan(15);
    expect(routes.filter((route) => route.includes('REFUSED'))).toEqual([]);
    expect(routes.sort()).toMatchSnapshot();
  });

  it('finds every controller', () => {
    expect(
      controllers()
        .map((controller) => controller.name)
        .sort(),
    ).toEqual([
      'AuditController',
      'AuthController',
      'DeployApprovalPagesController',
      'DeployApprovalsController',
      'HealthController',
      'MeController',
      'MetricsController',
      'MfaController',
      'MfaPagesController',
      'ProxyController',
      'ReadOnlyController',
      'RolesController',
      'TokensController',
      'UiAssetsController',
      'UsersController',
    ]);
  });
});

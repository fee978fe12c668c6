import { type Action, type Subject, permissionName } from '../rbac/permissions';
import { RACK_ROUTES, type RackRoute } from '../rbac/rack-route-table';
import type { SecondFactorKind } from './second-factor-proof';

/**
 * How fresh a second factor an operation needs: `step-up`, one verified within the step-up window
 * (MFA_STEP_UP_WINDOW_MINUTES); `always`, one sent with this very request. Anything else needs none.
 */
export type MfaLevel = 'none' | 'step-up' | 'always';

/**
 * How a request met its level: a proof sent with it, the credential's step-up window, or, for a CI
 * token's step of an approved deploy, the second factors its approvers gave.
 */
export interface SecondFactorUse {
  readonly level: Exclude<MfaLevel, 'none'>;
  readonly by: SecondFactorKind | 'step-up window' | 'deploy approval';
}

/**
 * Every permission that needs a second factor, in one table keyed like the route table's permissions.
 * The proxy and the admin API both read it, and `GET /api/v1/mfa/requirements` serves it to clients.
 */
export const MFA_LEVELS: Readonly<Record<string, Exclude<MfaLevel, 'none'>>> = {
  // Running code and reaching into processes and resources.
  'exec:create': 'step-up',
  'processes:run': 'step-up',
  'processes:stop': 'step-up',
  'resources:access': 'step-up',
  'instances:shell': 'step-up',
  'rack:proxy': 'step-up',
  // Changing what runs: env and secrets, builds, releases, promotes, app and rack settings, scale.
  'env:update': 'step-up',
  'secrets:update': 'step-up',
  'builds:create': 'step-up',
  'builds:update': 'step-up',
  'releases:create': 'step-up',
  'releases:promote': 'step-up',
  'apps:create': 'step-up',
  'apps:update': 'step-up',
  'apps:restart': 'step-up',
  'apps:scale': 'step-up',
  'rack:update': 'step-up',
  'resources:create': 'step-up',
  'resources:update': 'step-up',
  'certificates:create': 'step-up',
  'certificates:update': 'step-up',
  'registries:create': 'step-up',
  'instances:update': 'step-up',
  // Destroying, and handing out access: a second factor with the request itself.
  'apps:delete': 'always',
  'instances:delete': 'always',
  'resources:delete': 'always',
  'certificates:delete': 'always',
  'registries:delete': 'always',
  'rack:manage': 'always',
  'tokens:create': 'always',
  'tokens:delete': 'always',
  'users:create': 'always',
  'users:update': 'always',
  'users:delete': 'always',
  'deploy-approvals:approve': 'always',
  'settings:update': 'always',
};

export function mfaLevelOf(action: Action, subject: Subject): MfaLevel {
  return MFA_LEVELS[permissionName(action, subject)] ?? 'none';
}

/** A rack route's level and the permission that names it, worked out once per row rather than per request. */
const ROUTE_LEVELS: ReadonlyMap<RackRoute, { readonly level: MfaLevel; readonly permission: string }> = new Map(
  RACK_ROUTES.map((route) => [
    route,
    { level: mfaLevelOf(route.action, route.subject), permission: permissionName(route.action, route.subject) },
  ]),
);

export function mfaLevelOfRoute(route: RackRoute): { readonly level: MfaLevel; readonly permission: string } {
  return (
    ROUTE_LEVELS.get(route) ?? { level: mfaLevelOf(route.action, route.subject), permission: permissionName(route.action, route.subject) }
  );
}

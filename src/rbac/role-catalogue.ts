import { ACTIONS, GATEWAY_SUBJECTS, RACK_SUBJECTS, type Action, type Subject, permissionName } from './permissions';
import type { PrincipalAbility } from './principal-ability';
import { abilityOf } from './principal-ability';
import { RACK_ROUTES } from './rack-route-table';
import { ROLES, ROLE_DEFINITIONS, type Role } from './roles';

const SUBJECTS: readonly Subject[] = [...RACK_SUBJECTS, ...GATEWAY_SUBJECTS];

export interface RoleDescription {
  readonly name: Role;
  readonly description: string;
  readonly inherits: readonly Role[];
  readonly tokensOnly: boolean;
  /** Every `subject:action` the role grants. */
  readonly permissions: readonly string[];
  /** Every rack route (`METHOD /path`) the role may call, from the route table. */
  readonly rackRoutes: readonly string[];
}

/** Every `subject:action` an ability grants on some instance (app conditions aside). */
export function permissionsOf(can: (action: Action, subject: Subject) => boolean): string[] {
  if (can('manage', 'all')) return [permissionName('manage', 'all')];
  return SUBJECTS.flatMap((subject) =>
    ACTIONS.filter((action) => action !== 'manage' && can(action, subject)).map((action) => permissionName(action, subject)),
  );
}

export function rackRoutesOf(can: (action: Action, subject: Subject) => boolean): string[] {
  return RACK_ROUTES.filter((route) => can(route.action, route.subject)).map((route) => `${route.method} ${route.path}`);
}

/** The roles as `GET /api/v1/roles` and the docs describe them, derived from roles.ts and the route table. */
export function describeRoles(): RoleDescription[] {
  return ROLES.map((name) => {
    const ability = abilityOf({ role: name, appScopes: null });
    const can = (action: Action, subject: Subject) => ability.can(action, subject);
    const definition = ROLE_DEFINITIONS[name];
    return {
      name,
      description: definition.description,
      inherits: definition.inherits,
      tokensOnly: definition.tokensOnly ?? false,
      permissions: permissionsOf(can),
      rackRoutes: rackRoutesOf(can),
    };
  });
}

export function describeAbility(ability: PrincipalAbility): { permissions: string[]; rackRoutes: string[] } {
  const can = (action: Action, subject: Subject) => ability.can(action, subject);
  return { permissions: permissionsOf(can), rackRoutes: rackRoutesOf(can) };
}

/** The route table as a Markdown table, for the OpenAPI description. */
export function rackRouteTableMarkdown(): string {
  const roles = describeRoles();
  const header = `| Method | Rack path | Permission | ${roles.map((role) => role.name).join(' | ')} |`;
  const rule = `|${' --- |'.repeat(3 + roles.length)}`;
  const rows = RACK_ROUTES.map((route) => {
    const key = `${route.method} ${route.path}`;
    const verdicts = roles.map((role) => (role.rackRoutes.includes(key) ? '✓' : ''));
    return `| ${route.method} | \`${route.path}\` | ${permissionName(route.action, route.subject)} | ${verdicts.join(' | ')} |`;
  });
  return [header, rule, ...rows].join('\n');
}

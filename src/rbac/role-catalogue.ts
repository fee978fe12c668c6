import { subject as asSubject } from '@casl/ability';
import {
  ACTIONS,
  APP_SUBJECTS,
  GATEWAY_SUBJECTS,
  RACK_SUBJECTS,
  type Action,
  type Subject,
  type SubjectFields,
  permissionName,
} from './permissions';
import { mfaLevelOf } from '../mfa/mfa-levels';
import { type PrincipalAbility, abilityOf } from './principal-ability';
import { RACK_ROUTES } from './rack-route-table';
import { ROLES, ROLE_DEFINITIONS, type Role } from './roles';

const SUBJECTS: readonly Subject[] = [...RACK_SUBJECTS, ...GATEWAY_SUBJECTS];

export interface RoleDescription {
  readonly name: Role;
  readonly description: string;
  readonly inherits: readonly Role[];
  readonly tokensOnly: boolean;
  /** Every `subject:action` the role grants; `(own)` marks grants on the caller's own instances only. */
  readonly permissions: readonly string[];
  /** Every rack route (`METHOD /path`) the role may call, from the route table. */
  readonly rackRoutes: readonly string[];
  /** Rack routes the role may call only as a step of an approved deploy (rows naming a deploy step). */
  readonly rackRoutesUnderApproval: readonly string[];
}

type Can = (action: Action, subject: Subject, target?: SubjectFields) => boolean;

/** Someone who is never the caller, to tell own-only grants from grants on everyone's instances. */
const SOMEONE_ELSE: SubjectFields = { userId: '00000000-0000-0000-0000-000000000000' };

/** Every `subject:action` an ability grants on some instance (app conditions aside). */
export function permissionsOf(can: Can): string[] {
  if (can('manage', 'all')) return [permissionName('manage', 'all')];
  return SUBJECTS.flatMap((subject) =>
    ACTIONS.filter((action) => action !== 'manage' && can(action, subject)).map((action) =>
      !APP_SUBJECTS.has(subject) && !can(action, subject, SOMEONE_ELSE)
        ? `${permissionName(action, subject)} (own)`
        : permissionName(action, subject),
    ),
  );
}

export function rackRoutesOf(can: Can): string[] {
  return RACK_ROUTES.filter((route) => can(route.action, route.subject)).map((route) => `${route.method} ${route.path}`);
}

/** The holder a role is described for: own-only grants are on their instances. */
const DESCRIBED_USER_ID = 'described-user';

/** The roles as `GET /api/v1/roles` and the docs describe them, derived from roles.ts and the route table. */
export function describeRoles(): RoleDescription[] {
  return ROLES.map((name) => {
    const binding = { role: name, appScopes: null };
    const ability = abilityOf(binding, DESCRIBED_USER_ID);
    const withApproval = abilityOf(binding, DESCRIBED_USER_ID, { underApproval: true });
    const can: Can = (action, subject, target) => ability.can(action, target ? asSubject(subject, { ...target }) : subject);
    const rackRoutes = rackRoutesOf(can);
    const definition = ROLE_DEFINITIONS[name];
    return {
      name,
      description: definition.description,
      inherits: definition.inherits,
      tokensOnly: definition.tokensOnly ?? false,
      permissions: permissionsOf(can),
      rackRoutes,
      rackRoutesUnderApproval: RACK_ROUTES.filter((route) => route.deployStep && withApproval.can(route.action, route.subject))
        .map((route) => `${route.method} ${route.path}`)
        .filter((route) => !rackRoutes.includes(route)),
    };
  });
}

export function describeAbility(ability: PrincipalAbility): { permissions: string[]; rackRoutes: string[] } {
  const can: Can = (action, subject, target) => ability.can(action, subject, target);
  return { permissions: permissionsOf(can), rackRoutes: rackRoutesOf(can) };
}

/** The route table as a Markdown table, for the OpenAPI description. */
export function rackRouteTableMarkdown(): string {
  const roles = describeRoles();
  const header = `| Method | Rack path | Permission | Second factor | ${roles.map((role) => role.name).join(' | ')} |`;
  const rule = `|${' --- |'.repeat(4 + roles.length)}`;
  const rows = RACK_ROUTES.map((route) => {
    const key = `${route.method} ${route.path}`;
    const verdicts = roles.map((role) =>
      role.rackRoutes.includes(key) ? '✓' : role.rackRoutesUnderApproval.includes(key) ? 'approved deploy' : '',
    );
    const level = mfaLevelOf(route.action, route.subject);
    return `| ${route.method} | \`${route.path}\` | ${permissionName(route.action, route.subject)} | ${level === 'none' ? '' : level} | ${verdicts.join(' | ')} |`;
  });
  return [header, rule, ...rows].join('\n');
}

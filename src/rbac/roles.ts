import type { Action, Subject } from './permissions';

export const ROLES = ['viewer', 'ops', 'deployer', 'cicd', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export interface Grant {
  readonly action: Action | readonly Action[];
  readonly subject: Subject | readonly Subject[];
  /** Only on instances the caller owns (`SubjectFields.userId` is the caller's user id). */
  readonly ownOnly?: true;
}

export interface RoleDefinition {
  readonly description: string;
  /** Roles whose grants this one includes. */
  readonly inherits: readonly Role[];
  readonly grants: readonly Grant[];
  /** Service accounts: usable through API tokens only, never through a browser sign-in. */
  readonly tokensOnly?: boolean;
}

/**
 * The roles, in one place. A grant here is what the route table (rack-route-table.ts) checks for every
 * proxied request and what the admin API checks on every endpoint; nothing else grants anything.
 * Secret values (`secrets:read`) belong to no role but admin.
 */
export const ROLE_DEFINITIONS: Readonly<Record<Role, RoleDefinition>> = {
  viewer: {
    description:
      'Reads apps, processes, builds, releases (without env values), logs, instances and the rack; manages their own tokens; reads their own audit events.',
    inherits: [],
    grants: [
      { action: 'read', subject: ['apps', 'processes', 'builds', 'releases', 'logs', 'instances', 'rack'] },
      { action: ['read', 'create', 'delete'], subject: 'tokens', ownOnly: true },
      { action: 'read', subject: 'audit', ownOnly: true },
    ],
  },
  ops: {
    description: 'Viewer, plus restart, scale, run, exec and stop processes, and read env values (secrets masked).',
    inherits: ['viewer'],
    grants: [
      { action: ['restart', 'scale'], subject: 'apps' },
      { action: ['run', 'stop'], subject: 'processes' },
      { action: 'create', subject: 'exec' },
      { action: 'read', subject: 'env' },
    ],
  },
  deployer: {
    description: 'Ops, plus builds, objects, releases, promote and env changes.',
    inherits: ['ops'],
    grants: [
      { action: ['create', 'update'], subject: 'builds' },
      { action: ['create', 'read'], subject: 'objects' },
      { action: ['create', 'promote'], subject: 'releases' },
      { action: 'update', subject: 'env' },
    ],
  },
  cicd: {
    description: 'For CI tokens: reads, uploads, builds and promotes. No env values, exec or env changes.',
    inherits: [],
    tokensOnly: true,
    grants: [
      { action: 'read', subject: ['apps', 'processes', 'builds', 'releases', 'logs', 'instances', 'rack'] },
      { action: ['create', 'read'], subject: 'objects' },
      { action: 'create', subject: 'builds' },
      { action: 'promote', subject: 'releases' },
    ],
  },
  admin: {
    description: 'Everything, including secret values and the gateway’s users, tokens and settings.',
    inherits: [],
    grants: [{ action: 'manage', subject: 'all' }],
  },
};

/** Every grant of a role, its inherited ones included. */
export function grantsOf(role: Role): Grant[] {
  const definition = ROLE_DEFINITIONS[role];
  return [...definition.inherits.flatMap(grantsOf), ...definition.grants];
}

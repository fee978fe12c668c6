import type { Action, Subject } from './permissions';

export const ROLES = ['viewer', 'ops', 'deployer', 'cicd', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export interface Grant {
  readonly action: Action | readonly Action[];
  readonly subject: Subject | readonly Subject[];
  /** Only on instances the caller owns (`SubjectFields.userId` is the caller's user id). */
  readonly ownOnly?: true;
  /**
   * Only as a step of an approved deploy: the deploy-approvals gate admits each such request against
   * an approval a person gave for this token, app and commit (deploy-approvals/deploy-steps.ts).
   */
  readonly underApproval?: true;
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
      { action: ['create', 'read'], subject: 'deploy-approvals', ownOnly: true },
    ],
  },
  cicd: {
    description:
      'For CI tokens: reads, and asks for deploy approvals. Uploads, builds, promotes and allowlisted run or exec only within an approved deploy; no env values or env changes.',
    inherits: [],
    tokensOnly: true,
    grants: [
      { action: 'read', subject: ['apps', 'processes', 'builds', 'releases', 'logs', 'instances', 'rack', 'objects'] },
      { action: ['create', 'read'], subject: 'deploy-approvals', ownOnly: true },
      { action: 'create', subject: ['objects', 'builds', 'exec'], underApproval: true },
      { action: 'promote', subject: 'releases', underApproval: true },
      { action: 'run', subject: 'processes', underApproval: true },
    ],
  },
  admin: {
    description: 'Everything, including secret values, approving deploys and the gateway’s users, tokens and settings.',
    inherits: [],
    grants: [{ action: 'manage', subject: 'all' }],
  },
};

/** Every grant of a role, its inherited ones included (under-approval ones too: a token scope must not exceed them). */
export function grantsOf(role: Role): Grant[] {
  const definition = ROLE_DEFINITIONS[role];
  return [...definition.inherits.flatMap(grantsOf), ...definition.grants];
}

import type { ForcedSubject, MongoAbility, MongoQuery } from '@casl/ability';

/** Everything a caller can be allowed to do. Closed: an action not listed here can never be granted. */
export const ACTIONS = [
  'manage',
  'read',
  'create',
  'update',
  'delete',
  'restart',
  'scale',
  'run',
  'stop',
  'promote',
  'access',
  'shell',
  'proxy',
  'approve',
] as const;
export type Action = (typeof ACTIONS)[number];

/** Rack subjects, then the gateway's own. Closed as well; `all` is CASL's wildcard, for admins only. */
export const RACK_SUBJECTS = [
  'apps',
  'processes',
  'exec',
  'builds',
  'releases',
  'env',
  'secrets',
  'objects',
  'resources',
  'certificates',
  'registries',
  'instances',
  'rack',
  'logs',
] as const;
export const GATEWAY_SUBJECTS = ['users', 'tokens', 'audit', 'deploy-approvals', 'settings'] as const;
export type RackSubject = (typeof RACK_SUBJECTS)[number];
export type GatewaySubject = (typeof GATEWAY_SUBJECTS)[number];
export type Subject = RackSubject | GatewaySubject | 'all';

/** The fields CASL conditions may test: the app a rack request touches, the owner of a token. */
export interface SubjectFields {
  app?: string;
  userId?: string;
}

export type AppAbility = MongoAbility<[Action, Subject | (ForcedSubject<Subject> & SubjectFields)], MongoQuery>;

/** Subjects of the rack as a whole, never of one app. */
const RACK_LEVEL_SUBJECTS: readonly RackSubject[] = ['certificates', 'registries', 'instances', 'rack'];

/** Subjects that belong to an app: an app-scoped role binding limits these to its apps. */
export const APP_SUBJECTS: ReadonlySet<Subject> = new Set<Subject>(
  RACK_SUBJECTS.filter((subject) => !RACK_LEVEL_SUBJECTS.includes(subject)),
);

export function permissionName(action: Action, subject: Subject): string {
  return `${subject}:${action}`;
}

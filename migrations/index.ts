import { CreateUsersTokensSessions1764380000000 } from './1764380000000-CreateUsersTokensSessions';
import { AddRolesAndAppScopes1764390000000 } from './1764390000000-AddRolesAndAppScopes';

/** Every migration, oldest first. Listed explicitly so the app, the CLI and tests run the same set. */
export const migrations = [CreateUsersTokensSessions1764380000000, AddRolesAndAppScopes1764390000000];

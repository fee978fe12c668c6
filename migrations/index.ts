import { CreateUsersTokensSessions1764380000000 } from './1764380000000-CreateUsersTokensSessions';
import { AddRolesAndAppScopes1764390000000 } from './1764390000000-AddRolesAndAppScopes';
import { CreateAuditTrail1764400000000 } from './1764400000000-CreateAuditTrail';
import { CreateMfa1764410000000 } from './1764410000000-CreateMfa';
import { CreateSettings1764420000000 } from './1764420000000-CreateSettings';
import { CreateNotificationOutbox1764430000000 } from './1764430000000-CreateNotificationOutbox';
import { CreateDeployApprovals1764440000000 } from './1764440000000-CreateDeployApprovals';
import { AddAuditEventSearch1764460000000 } from './1764460000000-AddAuditEventSearch';
import { CreateAuditRetentionAnchor1764470000000 } from './1764470000000-CreateAuditRetentionAnchor';
import { CreateRackReconciliation1764471000000 } from './1764471000000-CreateRackReconciliation';

/** Every migration, oldest first. Listed explicitly so the app, the CLI and tests run the same set. */
export const migrations = [
  CreateUsersTokensSessions1764380000000,
  AddRolesAndAppScopes1764390000000,
  CreateAuditTrail1764400000000,
  CreateMfa1764410000000,
  CreateSettings1764420000000,
  CreateNotificationOutbox1764430000000,
  CreateDeployApprovals1764440000000,
  AddAuditEventSearch1764460000000,
  CreateAuditRetentionAnchor1764470000000,
  CreateRackReconciliation1764471000000,
];

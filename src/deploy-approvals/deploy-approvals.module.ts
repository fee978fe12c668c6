import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { RackModule } from '../rack/rack.module';
import { RbacModule } from '../rbac/rbac.module';
import { TokensModule } from '../tokens/tokens.module';
import { UsersModule } from '../users/users.module';
import { DeployApprovalGuard } from './guards/deploy-approval.guard';
import { DeployApprovalNotices } from './deploy-approval-notices';
import { DeployApprovalParties } from './deploy-approval-parties.resolver';
import { DeployApprovalDecisionEntity, DeployApprovalRequestEntity } from './deploy-approval-request.entity';
import { DeployApprovals } from './deploy-approvals.service';
import { DeployApprovalsController } from './deploy-approvals.controller';
import { DeploySteps } from './deploy-steps.service';

/**
 * Deploy approvals: CI asks, people decide, and the approved deploy's steps are admitted one by one
 * (the pipeline stage `DeployApprovalGuard`), each once and in order.
 */
@Module({
  imports: [
    TypeOrmModule.forFeature([DeployApprovalRequestEntity, DeployApprovalDecisionEntity]),
    RackModule,
    RbacModule,
    TokensModule,
    UsersModule,
  ],
  controllers: [DeployApprovalsController],
  providers: [DeployApprovals, DeploySteps, DeployApprovalNotices, DeployApprovalParties, DeployApprovalGuard],
  // The service and resolver too, for the pages (ui) that put a face on the same operations.
  exports: [DeployApprovalGuard, DeployApprovals, DeployApprovalParties],
})
export class DeployApprovalsModule {}

import { Module } from '@nestjs/common';
import { DeployApprovalsModule } from '../deploy-approvals/deploy-approvals.module';
import { MfaModule } from '../mfa/mfa.module';
import { DeployApprovalPagesController } from './deploy-approval-pages.controller';
import { MfaPagesController } from './mfa-pages.controller';
import { MfaPages } from './mfa-pages.service';
import { UiAssetsController } from './ui-assets.controller';

/**
 * The pages a person needs in a browser, rendered on the server under /ui/: the second-factor challenge
 * after Google sign-in, enrolment, and deploy approvals. Forms work without script; only security keys need the one
 * script served beside them.
 */
@Module({
  imports: [MfaModule, DeployApprovalsModule],
  controllers: [MfaPagesController, DeployApprovalPagesController, UiAssetsController],
  providers: [MfaPages],
})
export class UiModule {}

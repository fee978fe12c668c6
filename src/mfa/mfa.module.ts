import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuthModule } from '../auth/auth.module';
import { TokensModule } from '../tokens/tokens.module';
import { UsersModule } from '../users/users.module';
import { MfaGuard } from './guards/mfa.guard';
import { MfaController } from './mfa.controller';
import { MfaEnrolment } from './mfa-enrolment.service';
import { MfaEvents } from './mfa-events';
import { MfaKeys } from './mfa-keys';
import { MfaMethodEntity } from './mfa-method.entity';
import { MfaBackupCodeEntity, MfaChallengeEntity, MfaFailureEntity, MfaUsedTotpStepEntity } from './mfa-records.entity';
import { SecondFactors } from './second-factors.service';
import { StepUpWindows } from './step-up-windows';
import { WebAuthnCeremonies } from './webauthn-ceremonies';

/**
 * Second factors: TOTP, WebAuthn and backup codes; enrolment; step-up windows; lockout. Its guard is a
 * stage of the request pipeline, after the policy has named the route's permission.
 */
@Module({
  imports: [
    TypeOrmModule.forFeature([MfaMethodEntity, MfaBackupCodeEntity, MfaUsedTotpStepEntity, MfaChallengeEntity, MfaFailureEntity]),
    AuthModule,
    TokensModule,
    UsersModule,
  ],
  controllers: [MfaController],
  providers: [MfaKeys, MfaEvents, WebAuthnCeremonies, SecondFactors, MfaEnrolment, StepUpWindows, MfaGuard],
  // The services too, for the pages (ui) that put a face on the same operations.
  exports: [MfaGuard, MfaEvents, MfaEnrolment, SecondFactors, StepUpWindows],
})
export class MfaModule {}

import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { MfaModule } from '../mfa/mfa.module';
import { ProxyModule } from '../proxy/proxy.module';
import { RackModule } from '../rack/rack.module';
import { UsersModule } from '../users/users.module';
import { AuditEventsScope } from './audit-events-scope.resolver';
import { AuditLog } from './audit-log.service';
import { AuditChainModule } from './audit-chain.module';
import { AuditController } from './audit.controller';
import { AuditInterceptor } from './audit.interceptor';
import { AuditRecorder } from './audit-recorder.service';
import { AuditRackReconciliationEntity, AuditRackResourceEntity } from './rack-reconciliation.entity';
import { RackReconciliation } from './rack-reconciliation.service';

/**
 * The audit trail: every request's events, redacted, chained by HMAC in an append-only table, and
 * the check that the chain still holds, and reconciliation of the rack's builds and releases against
 * it. Its interceptor is a stage of the request pipeline.
 */
@Module({
  imports: [
    AuditChainModule,
    MfaModule,
    ProxyModule,
    RackModule,
    UsersModule,
    TypeOrmModule.forFeature([AuditRackResourceEntity, AuditRackReconciliationEntity]),
  ],
  controllers: [AuditController],
  providers: [AuditRecorder, AuditInterceptor, AuditLog, AuditEventsScope, RackReconciliation],
  exports: [AuditInterceptor, RackReconciliation],
})
export class AuditModule {}

import { Module } from '@nestjs/common';
import { MfaModule } from '../mfa/mfa.module';
import { ProxyModule } from '../proxy/proxy.module';
import { UsersModule } from '../users/users.module';
import { AuditEventsScope } from './audit-events-scope.resolver';
import { AuditLog } from './audit-log.service';
import { AuditChainModule } from './audit-chain.module';
import { AuditController } from './audit.controller';
import { AuditInterceptor } from './audit.interceptor';
import { AuditRecorder } from './audit-recorder.service';

/**
 * The audit trail: every request's events, redacted, chained by HMAC in an append-only table, and
 * the check that the chain still holds. Its interceptor is a stage of the request pipeline.
 */
@Module({
  imports: [AuditChainModule, MfaModule, ProxyModule, UsersModule],
  controllers: [AuditController],
  providers: [AuditRecorder, AuditInterceptor, AuditLog, AuditEventsScope],
  exports: [AuditInterceptor],
})
export class AuditModule {}

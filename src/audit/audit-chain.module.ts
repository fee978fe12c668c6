import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuditCheckpoints } from './audit-checkpoints';
import { AuditChainHeadEntity, AuditEventEntity } from './audit-event.entity';
import { AuditKey } from './audit-key';
import { AuditTrail } from './audit-trail.service';
import { AuditVerifier } from './audit-verifier.service';

/** The chain alone (append and verify), without the request pipeline: what operator commands need. */
@Module({
  imports: [TypeOrmModule.forFeature([AuditEventEntity, AuditChainHeadEntity])],
  providers: [AuditKey, AuditTrail, AuditVerifier, AuditCheckpoints],
  exports: [TypeOrmModule, AuditTrail, AuditVerifier, AuditCheckpoints],
})
export class AuditChainModule {}

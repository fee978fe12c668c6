import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuditCheckpoints } from './audit-checkpoints';
import { AuditChainAnchorEntity, AuditChainHeadEntity, AuditEventEntity } from './audit-event.entity';
import { AuditKey } from './audit-key';
import { AuditRetention } from './audit-retention.service';
import { AuditTrail } from './audit-trail.service';
import { AuditVerifier } from './audit-verifier.service';

/** The chain alone (append, verify, retain), without the request pipeline: what operator commands need. */
@Module({
  imports: [TypeOrmModule.forFeature([AuditEventEntity, AuditChainHeadEntity, AuditChainAnchorEntity])],
  providers: [AuditKey, AuditTrail, AuditVerifier, AuditCheckpoints, AuditRetention],
  exports: [TypeOrmModule, AuditTrail, AuditVerifier, AuditCheckpoints, AuditRetention],
})
export class AuditChainModule {}

import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  DEPLOY_APPROVAL_STATUSES,
  DEPLOY_PROGRESS,
  type DeployApprovalStatus,
  type DeployProgress,
} from '../deploy-approval-request.entity';

export class DeployDecisionDto {
  @ApiProperty() by!: string;
  @ApiProperty({ enum: ['approve', 'reject'] }) decision!: 'approve' | 'reject';
  @ApiPropertyOptional({ nullable: true, type: String }) note!: string | null;
  @ApiProperty() decidedAt!: string;
}

export class DeployApprovalResponseDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() app!: string;
  @ApiProperty() gitCommit!: string;
  @ApiPropertyOptional({ nullable: true, type: String }) gitBranch!: string | null;
  @ApiPropertyOptional({ nullable: true, type: String }) message!: string | null;
  @ApiPropertyOptional({ nullable: true, type: Object }) ciMetadata!: Record<string, unknown> | null;
  @ApiProperty({
    enum: DEPLOY_APPROVAL_STATUSES,
    description: 'A request past its deadline reads expired, whether or not the sweep has marked it yet',
  })
  status!: DeployApprovalStatus;
  @ApiPropertyOptional({ enum: DEPLOY_PROGRESS, nullable: true, description: 'How far the approved deploy has gone' })
  progress!: DeployProgress | null;
  @ApiProperty({ description: 'Who asked' }) requestedBy!: string;
  @ApiProperty({ format: 'uuid', description: 'The CI token the approval unlocks' }) tokenId!: string;
  @ApiProperty({ description: 'Whose token it is' }) tokenOwner!: string;
  @ApiProperty() approvalsRequired!: number;
  @ApiProperty({ type: [DeployDecisionDto] }) decisions!: DeployDecisionDto[];
  @ApiProperty() createdAt!: string;
  @ApiProperty({ description: 'A pending request expires then' }) pendingExpiresAt!: string;
  @ApiPropertyOptional({ nullable: true, type: String }) approvedAt!: string | null;
  @ApiPropertyOptional({ nullable: true, type: String, description: 'No step of the deploy may start after this' })
  approvalExpiresAt!: string | null;
  @ApiPropertyOptional({ nullable: true, type: String, description: 'object://app/key of the approved upload' })
  objectUrl!: string | null;
  @ApiPropertyOptional({ nullable: true, type: String }) buildId!: string | null;
  @ApiPropertyOptional({ nullable: true, type: String }) releaseId!: string | null;
  @ApiPropertyOptional({ nullable: true, type: String }) deployedAt!: string | null;
}

export class DeployApprovalAuditEventDto {
  @ApiProperty() seq!: number;
  @ApiProperty() occurredAt!: string;
  @ApiProperty() kind!: string;
  @ApiPropertyOptional({ nullable: true, type: String }) actor!: string | null;
  @ApiPropertyOptional({ nullable: true, type: String }) method!: string | null;
  @ApiPropertyOptional({ nullable: true, type: String }) path!: string | null;
  @ApiProperty({ enum: ['allowed', 'denied'] }) decision!: 'allowed' | 'denied';
  @ApiPropertyOptional({ nullable: true, type: Number }) status!: number | null;
  @ApiPropertyOptional({ nullable: true, type: String }) reason!: string | null;
}

export class DeployApprovalDetailDto extends DeployApprovalResponseDto {
  @ApiProperty({ type: [DeployApprovalAuditEventDto], description: 'The audit events recorded under this request' })
  auditEvents!: DeployApprovalAuditEventDto[];
}

export class DeployApprovalPageDto {
  @ApiProperty({ type: [DeployApprovalResponseDto] }) items!: DeployApprovalResponseDto[];
  @ApiPropertyOptional({ nullable: true, type: String, description: 'Pass as cursor for the next page; null on the last' })
  nextCursor!: string | null;
}

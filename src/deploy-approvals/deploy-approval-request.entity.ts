import { Check, Column, CreateDateColumn, Entity, ForeignKey, Index, PrimaryColumn, PrimaryGeneratedColumn } from 'typeorm';

export const DEPLOY_APPROVAL_STATUSES = ['pending', 'approved', 'rejected', 'expired', 'deployed'] as const;
export type DeployApprovalStatus = (typeof DEPLOY_APPROVAL_STATUSES)[number];

/**
 * How far an approved deploy has gone. `uploading`, `building` and `promoting` mark a step that is
 * with the rack now: claimed before the request is forwarded, so no second one can start, and given
 * back if the rack refuses it.
 */
export const DEPLOY_PROGRESS = ['approved', 'uploading', 'uploaded', 'building', 'built', 'released', 'promoting', 'deployed'] as const;
export type DeployProgress = (typeof DEPLOY_PROGRESS)[number];

/**
 * A request to deploy one commit of one app with one CI token, and (once approved) the deploy it
 * unlocks. The migration's trigger holds every change to the lifecycle and the deploy's order.
 */
@Entity('deploy_approval_requests')
@Index('deploy_approval_requests_open_key', ['targetTokenId', 'app', 'gitCommit'], {
  unique: true,
  where: `status IN ('pending', 'approved')`,
})
@Index('deploy_approval_requests_created_at_idx', ['createdAt'])
@Index('deploy_approval_requests_requested_by_user_id_idx', ['requestedByUserId'])
@Index('deploy_approval_requests_target_token_owner_id_idx', ['targetTokenOwnerId'])
@Check('deploy_approval_requests_status_known', `status IN ('pending', 'approved', 'rejected', 'expired', 'deployed')`)
@Check(
  'deploy_approval_requests_progress_known',
  `progress IN ('approved', 'uploading', 'uploaded', 'building', 'built', 'released', 'promoting', 'deployed')`,
)
@Check('deploy_approval_requests_approvals_range', `approvals_required BETWEEN 1 AND 10`)
@Check('deploy_approval_requests_pending_has_no_progress', `status <> 'pending' OR progress IS NULL`)
@Check('deploy_approval_requests_deployed_is_done', `status <> 'deployed' OR progress = 'deployed'`)
@Check('deploy_approval_requests_steps_bound', `object_key IS NOT NULL OR progress IS NULL OR progress = 'approved'`)
export class DeployApprovalRequestEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ type: 'varchar', length: 63 })
  app!: string;

  /** Lower-case hex, 7 to 40 characters; a build's git sha matches when one is a prefix of the other. */
  @Column({ name: 'git_commit', type: 'varchar', length: 40 })
  gitCommit!: string;

  @Column({ name: 'git_branch', type: 'varchar', length: 255, nullable: true })
  gitBranch!: string | null;

  @Column({ type: 'varchar', length: 2000, nullable: true })
  message!: string | null;

  /** Free JSON from CI (a build URL, a pipeline number), shown to approvers. */
  @Column({ name: 'ci_metadata', type: 'jsonb', nullable: true })
  ciMetadata!: Record<string, unknown> | null;

  /** The person or service account who asked (a CI token's owner when the token asked itself). */
  @Column({ name: 'requested_by_user_id', type: 'uuid' })
  @ForeignKey('users', { name: 'deploy_approval_requests_requested_by_user_id_fkey', onDelete: 'CASCADE' })
  requestedByUserId!: string;

  @Column({ name: 'requested_by_token_id', type: 'uuid', nullable: true })
  @ForeignKey('api_tokens', { name: 'deploy_approval_requests_requested_by_token_id_fkey', onDelete: 'CASCADE' })
  requestedByTokenId!: string | null;

  /** The one token the approval unlocks a deploy for. */
  @Column({ name: 'target_token_id', type: 'uuid' })
  @ForeignKey('api_tokens', { name: 'deploy_approval_requests_target_token_id_fkey', onDelete: 'CASCADE' })
  targetTokenId!: string;

  /** Whose token it is: an approver must be neither this person nor the requester. */
  @Column({ name: 'target_token_owner_id', type: 'uuid' })
  @ForeignKey('users', { name: 'deploy_approval_requests_target_token_owner_id_fkey', onDelete: 'CASCADE' })
  targetTokenOwnerId!: string;

  /** Distinct approvers needed, from the app's policy when the request was made. */
  @Column({ name: 'approvals_required', type: 'smallint' })
  approvalsRequired!: number;

  @Column({ type: 'varchar', length: 16, default: 'pending' })
  status!: DeployApprovalStatus;

  /** Null until approved. */
  @Column({ type: 'varchar', length: 16, nullable: true })
  progress!: DeployProgress | null;

  @Column({ name: 'pending_expires_at', type: 'timestamptz' })
  pendingExpiresAt!: Date;

  @Column({ name: 'approved_at', type: 'timestamptz', nullable: true })
  approvedAt!: Date | null;

  /** No step of the deploy may start after this; an approver may extend it. */
  @Column({ name: 'approval_expires_at', type: 'timestamptz', nullable: true })
  approvalExpiresAt!: Date | null;

  /** When it was approved, rejected or expired. */
  @Column({ name: 'decided_at', type: 'timestamptz', nullable: true })
  decidedAt!: Date | null;

  /** The object key of the approved upload (`tmp/<hex>.tgz`); the build must be made from it. */
  @Column({ name: 'object_key', type: 'varchar', length: 1024, nullable: true })
  objectKey!: string | null;

  @Column({ name: 'build_id', type: 'varchar', length: 64, nullable: true })
  buildId!: string | null;

  /** The release the approved build made; the only one the token may promote. */
  @Column({ name: 'release_id', type: 'varchar', length: 64, nullable: true })
  releaseId!: string | null;

  @Column({ name: 'deployed_at', type: 'timestamptz', nullable: true })
  deployedAt!: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'updated_at', type: 'timestamptz', default: () => 'now()' })
  updatedAt!: Date;
}

export type DeployDecision = 'approve' | 'reject';

/** One person's approval or rejection; the primary key makes each approver count once. */
@Entity('deploy_approval_decisions')
@Check('deploy_approval_decisions_decision_known', `decision IN ('approve', 'reject')`)
export class DeployApprovalDecisionEntity {
  @PrimaryColumn({ name: 'request_id', type: 'uuid' })
  @ForeignKey('deploy_approval_requests', { name: 'deploy_approval_decisions_request_id_fkey', onDelete: 'CASCADE' })
  requestId!: string;

  @PrimaryColumn({ name: 'user_id', type: 'uuid' })
  @ForeignKey('users', { name: 'deploy_approval_decisions_user_id_fkey', onDelete: 'CASCADE' })
  userId!: string;

  @Column({ type: 'varchar', length: 8 })
  decision!: DeployDecision;

  @Column({ type: 'varchar', length: 2000, nullable: true })
  note!: string | null;

  @CreateDateColumn({ name: 'decided_at', type: 'timestamptz' })
  decidedAt!: Date;
}

import { Check, Column, CreateDateColumn, Entity, ForeignKey, Index, PrimaryColumn, PrimaryGeneratedColumn } from 'typeorm';

/** A backup code, as a keyed hash (backup-codes.ts); single use. */
@Entity('mfa_backup_codes')
export class MfaBackupCodeEntity {
  @PrimaryColumn({ name: 'user_id', type: 'uuid' })
  @ForeignKey('users', { name: 'mfa_backup_codes_user_id_fkey', onDelete: 'CASCADE' })
  userId!: string;

  @PrimaryColumn({ name: 'code_hash', type: 'char', length: 64 })
  codeHash!: string;

  @Column({ name: 'used_at', type: 'timestamptz', nullable: true })
  usedAt!: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}

/** A TOTP time step a user has already spent: the primary key makes each step count once, across instances. */
@Entity('mfa_used_totp_steps')
export class MfaUsedTotpStepEntity {
  @PrimaryColumn({ name: 'user_id', type: 'uuid' })
  @ForeignKey('users', { name: 'mfa_used_totp_steps_user_id_fkey', onDelete: 'CASCADE' })
  userId!: string;

  @PrimaryColumn({ name: 'time_step', type: 'bigint' })
  timeStep!: string;

  @CreateDateColumn({ name: 'used_at', type: 'timestamptz' })
  usedAt!: Date;
}

export type MfaChallengePurpose = 'registration' | 'authentication';

/** A WebAuthn challenge, kept on the server and spent by the one response that answers it. */
@Entity('mfa_challenges')
@Index('mfa_challenges_user_id_idx', ['userId'])
@Check('mfa_challenges_purpose_known', `purpose IN ('registration', 'authentication')`)
export class MfaChallengeEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ name: 'user_id', type: 'uuid' })
  @ForeignKey('users', { name: 'mfa_challenges_user_id_fkey', onDelete: 'CASCADE' })
  userId!: string;

  @Column({ type: 'varchar', length: 20 })
  purpose!: MfaChallengePurpose;

  @Column({ type: 'varchar', length: 200 })
  challenge!: string;

  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt!: Date;
}

/** A failed second-factor attempt, counted per user (lockout) and per client address. */
@Entity('mfa_failures')
@Index('mfa_failures_user_id_occurred_at_idx', ['userId', 'occurredAt'])
@Index('mfa_failures_client_ip_occurred_at_idx', ['clientIp', 'occurredAt'])
export class MfaFailureEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ name: 'user_id', type: 'uuid' })
  @ForeignKey('users', { name: 'mfa_failures_user_id_fkey', onDelete: 'CASCADE' })
  userId!: string;

  @Column({ name: 'client_ip', type: 'varchar', length: 64 })
  clientIp!: string;

  /** Written with the gateway's clock, which the lockout window is measured by. */
  @Column({ name: 'occurred_at', type: 'timestamptz', default: () => 'now()' })
  occurredAt!: Date;
}

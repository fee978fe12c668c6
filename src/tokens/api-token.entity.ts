import { Check, Column, CreateDateColumn, Entity, ForeignKey, Index, PrimaryGeneratedColumn } from 'typeorm';
import type { Role } from '../rbac/roles';

@Entity('api_tokens')
@Index('api_tokens_token_hash_key', ['tokenHash'], { unique: true })
@Index('api_tokens_user_id_idx', ['userId'])
@Check('api_tokens_role_known', `role IS NULL OR role IN ('viewer', 'ops', 'deployer', 'cicd', 'admin')`)
export class ApiTokenEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  /**
   * The owner, whom tokens reads through UsersService. The constraint names the users table rather than
   * its entity class, so tokens declares its foreign key without reaching into the users module.
   */
  @Column({ name: 'user_id', type: 'uuid' })
  @ForeignKey('users', { name: 'api_tokens_user_id_fkey', onDelete: 'CASCADE' })
  userId!: string;

  @Column({ type: 'varchar', length: 100 })
  name!: string;

  /** SHA-256 of the token; the token itself is shown once and never stored. */
  @Column({ name: 'token_hash', type: 'char', length: 64, select: false })
  tokenHash!: string;

  /** The first characters of the token, so a person can tell their tokens apart. */
  @Column({ name: 'display_prefix', type: 'varchar', length: 16 })
  displayPrefix!: string;

  /** The most this token may do, below its owner's role; null: whatever its owner may. */
  @Column({ type: 'varchar', length: 20, nullable: true })
  role!: Role | null;

  /** Apps this token is limited to, within its owner's; null: its owner's apps. */
  @Column({ name: 'app_scopes', type: 'jsonb', nullable: true })
  appScopes!: string[] | null;

  @Column({ name: 'expires_at', type: 'timestamptz', nullable: true })
  expiresAt!: Date | null;

  @Column({ name: 'last_used_at', type: 'timestamptz', nullable: true })
  lastUsedAt!: Date | null;

  /** Step-up operations with this token need no new verification until then (its owner verified). */
  @Column({ name: 'step_up_until', type: 'timestamptz', nullable: true })
  stepUpUntil!: Date | null;

  @Column({ name: 'revoked_at', type: 'timestamptz', nullable: true })
  revokedAt!: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}

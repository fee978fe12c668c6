import { Check, Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

import { ROLES, type Role } from '../rbac/roles';

export const USER_ROLES = ROLES;
export type UserRole = Role;

@Entity('users')
@Index('users_email_key', ['email'], { unique: true })
@Check('users_email_lower', `email = lower(email)`)
@Check('users_role_known', `role IN ('viewer', 'ops', 'deployer', 'cicd', 'admin')`)
export class UserEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  /** Always lower-case: the database enforces it, so lookups never depend on the caller's casing. */
  @Column({ type: 'varchar', length: 320 })
  email!: string;

  @Column({ type: 'varchar', length: 200, default: '' })
  name!: string;

  @Column({ type: 'varchar', length: 20 })
  role!: UserRole;

  /** Apps the role applies to (names or `*` patterns); null means every app. */
  @Column({ name: 'app_scopes', type: 'jsonb', nullable: true })
  appScopes!: string[] | null;

  @Column({ type: 'boolean', default: false })
  disabled!: boolean;

  /** When the user confirmed a first second factor; null while they have none. */
  @Column({ name: 'mfa_enrolled_at', type: 'timestamptz', nullable: true })
  mfaEnrolledAt!: Date | null;

  /** Refused everywhere until then (too many failed second factors), unless an admin unlocks sooner. */
  @Column({ name: 'locked_until', type: 'timestamptz', nullable: true })
  lockedUntil!: Date | null;

  @Column({ name: 'locked_reason', type: 'varchar', length: 200, nullable: true })
  lockedReason!: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}

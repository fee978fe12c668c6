import { Check, Column, CreateDateColumn, Entity, ForeignKey, Index, PrimaryGeneratedColumn } from 'typeorm';

export type MfaMethodKind = 'totp' | 'webauthn';

/** One second factor of a user: an authenticator app's TOTP secret or a WebAuthn credential. */
@Entity('mfa_methods')
@Index('mfa_methods_user_id_idx', ['userId'])
@Index('mfa_methods_credential_id_key', ['credentialId'], { unique: true })
@Check('mfa_methods_kind_known', `kind IN ('totp', 'webauthn')`)
@Check(
  'mfa_methods_material',
  `(kind = 'totp' AND totp_secret IS NOT NULL)
          OR (kind = 'webauthn' AND credential_id IS NOT NULL AND public_key IS NOT NULL AND sign_count IS NOT NULL)`,
)
export class MfaMethodEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ name: 'user_id', type: 'uuid' })
  @ForeignKey('users', { name: 'mfa_methods_user_id_fkey', onDelete: 'CASCADE' })
  userId!: string;

  @Column({ type: 'varchar', length: 20 })
  kind!: MfaMethodKind;

  @Column({ type: 'varchar', length: 100 })
  label!: string;

  /** The TOTP secret sealed with AES-256-GCM (secret-box.ts); never stored in the clear. */
  @Column({ name: 'totp_secret', type: 'bytea', nullable: true, select: false })
  totpSecret!: Buffer | null;

  /** WebAuthn credential id, base64url. */
  @Column({ name: 'credential_id', type: 'varchar', length: 1024, nullable: true })
  credentialId!: string | null;

  /** WebAuthn credential public key (COSE). */
  @Column({ name: 'public_key', type: 'bytea', nullable: true })
  publicKey!: Buffer | null;

  /** The authenticator's signature counter, as last seen: an assertion must move it forward (or keep it at 0). */
  @Column({ name: 'sign_count', type: 'bigint', nullable: true, transformer: { to: (value: unknown) => value, from: toNumber } })
  signCount!: number | null;

  @Column({ type: 'jsonb', nullable: true })
  transports!: string[] | null;

  /** Null until the person proves the method works (a first TOTP code); unconfirmed methods verify nothing. */
  @Column({ name: 'confirmed_at', type: 'timestamptz', nullable: true })
  confirmedAt!: Date | null;

  @Column({ name: 'last_used_at', type: 'timestamptz', nullable: true })
  lastUsedAt!: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}

function toNumber(value: string | null): number | null {
  return value === null ? null : Number(value);
}

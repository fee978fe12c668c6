import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Second factors: TOTP (secret sealed with AES-256-GCM), WebAuthn credentials with their signature
 * counters, keyed hashes of backup codes, TOTP steps already used, server-side WebAuthn challenges and
 * failed attempts; on users their enrolment and lock, on sessions and tokens their step-up window.
 */
export class CreateMfa1764410000000 implements MigrationInterface {
  name = 'CreateMfa1764410000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE users ADD COLUMN mfa_enrolled_at timestamptz`);
    await queryRunner.query(`ALTER TABLE users ADD COLUMN locked_until timestamptz`);
    await queryRunner.query(`ALTER TABLE users ADD COLUMN locked_reason varchar(200)`);
    await queryRunner.query(`ALTER TABLE sessions ADD COLUMN second_factor_at timestamptz`);
    await queryRunner.query(`ALTER TABLE sessions ADD COLUMN step_up_until timestamptz`);
    await queryRunner.query(`ALTER TABLE api_tokens ADD COLUMN step_up_until timestamptz`);
    await queryRunner.query(`
      CREATE TABLE mfa_methods (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        kind varchar(20) NOT NULL,
        label varchar(100) NOT NULL,
        totp_secret bytea,
        credential_id varchar(1024),
        public_key bytea,
        sign_count bigint,
        transports jsonb,
        confirmed_at timestamptz,
        last_used_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT mfa_methods_kind_known CHECK (kind IN ('totp', 'webauthn')),
        CONSTRAINT mfa_methods_material CHECK (
          (kind = 'totp' AND totp_secret IS NOT NULL)
          OR (kind = 'webauthn' AND credential_id IS NOT NULL AND public_key IS NOT NULL AND sign_count IS NOT NULL)
        )
      )`);
    await queryRunner.query(`CREATE INDEX mfa_methods_user_id_idx ON mfa_methods (user_id)`);
    await queryRunner.query(`CREATE UNIQUE INDEX mfa_methods_credential_id_key ON mfa_methods (credential_id)`);
    await queryRunner.query(`
      CREATE TABLE mfa_backup_codes (
        user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        code_hash char(64) NOT NULL,
        used_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (user_id, code_hash)
      )`);
    await queryRunner.query(`
      CREATE TABLE mfa_used_totp_steps (
        user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        time_step bigint NOT NULL,
        used_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (user_id, time_step)
      )`);
    await queryRunner.query(`
      CREATE TABLE mfa_challenges (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        purpose varchar(20) NOT NULL,
        challenge varchar(200) NOT NULL,
        expires_at timestamptz NOT NULL,
        CONSTRAINT mfa_challenges_purpose_known CHECK (purpose IN ('registration', 'authentication'))
      )`);
    await queryRunner.query(`CREATE INDEX mfa_challenges_user_id_idx ON mfa_challenges (user_id)`);
    await queryRunner.query(`
      CREATE TABLE mfa_failures (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        client_ip varchar(64) NOT NULL,
        occurred_at timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(`CREATE INDEX mfa_failures_user_id_occurred_at_idx ON mfa_failures (user_id, occurred_at)`);
    await queryRunner.query(`CREATE INDEX mfa_failures_client_ip_occurred_at_idx ON mfa_failures (client_ip, occurred_at)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE mfa_failures`);
    await queryRunner.query(`DROP TABLE mfa_challenges`);
    await queryRunner.query(`DROP TABLE mfa_used_totp_steps`);
    await queryRunner.query(`DROP TABLE mfa_backup_codes`);
    await queryRunner.query(`DROP TABLE mfa_methods`);
    await queryRunner.query(`ALTER TABLE api_tokens DROP COLUMN step_up_until`);
    await queryRunner.query(`ALTER TABLE sessions DROP COLUMN step_up_until`);
    await queryRunner.query(`ALTER TABLE sessions DROP COLUMN second_factor_at`);
    await queryRunner.query(`ALTER TABLE users DROP COLUMN locked_reason`);
    await queryRunner.query(`ALTER TABLE users DROP COLUMN locked_until`);
    await queryRunner.query(`ALTER TABLE users DROP COLUMN mfa_enrolled_at`);
  }
}

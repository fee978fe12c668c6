import { MigrationInterface, QueryRunner } from 'typeorm';

/** RBAC: the cicd role, app-scoped role bindings, and tokens narrowed to a role and apps. */
export class AddRolesAndAppScopes1764390000000 implements MigrationInterface {
  name = 'AddRolesAndAppScopes1764390000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE users DROP CONSTRAINT users_role_known`);
    await queryRunner.query(
      `ALTER TABLE users ADD CONSTRAINT users_role_known CHECK (role IN ('viewer', 'ops', 'deployer', 'cicd', 'admin'))`,
    );
    await queryRunner.query(`ALTER TABLE users ADD COLUMN app_scopes jsonb`);
    await queryRunner.query(`ALTER TABLE api_tokens ADD COLUMN role varchar(20)`);
    await queryRunner.query(`ALTER TABLE api_tokens ADD COLUMN app_scopes jsonb`);
    await queryRunner.query(
      `ALTER TABLE api_tokens ADD CONSTRAINT api_tokens_role_known CHECK (role IS NULL OR role IN ('viewer', 'ops', 'deployer', 'cicd', 'admin'))`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE api_tokens DROP CONSTRAINT api_tokens_role_known`);
    await queryRunner.query(`ALTER TABLE api_tokens DROP COLUMN app_scopes`);
    await queryRunner.query(`ALTER TABLE api_tokens DROP COLUMN role`);
    await queryRunner.query(`ALTER TABLE users DROP COLUMN app_scopes`);
    await queryRunner.query(`DELETE FROM users WHERE role = 'cicd'`);
    await queryRunner.query(`ALTER TABLE users DROP CONSTRAINT users_role_known`);
    await queryRunner.query(`ALTER TABLE users ADD CONSTRAINT users_role_known CHECK (role IN ('viewer', 'ops', 'deployer', 'admin'))`);
  }
}

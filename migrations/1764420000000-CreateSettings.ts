import { MigrationInterface, QueryRunner } from 'typeorm';

/** Gateway settings admins change at run time (read-only mode), shared by every instance. */
export class CreateSettings1764420000000 implements MigrationInterface {
  name = 'CreateSettings1764420000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE settings (
        key varchar(100) PRIMARY KEY,
        value jsonb NOT NULL,
        updated_by varchar(320),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE settings`);
  }
}

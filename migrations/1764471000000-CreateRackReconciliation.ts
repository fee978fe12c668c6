import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Reconciliation of the rack's builds and releases against the audit trail: every one it has looked
 * at, with what it found (there before the first look, created through the gateway, or directly with
 * the rack's credential), so each is judged and flagged once; when it last looked; and an index of the
 * ids gateway requests created (`rack.exchange` details), so a lookup does not scan the trail.
 */
export class CreateRackReconciliation1764471000000 implements MigrationInterface {
  name = 'CreateRackReconciliation1764471000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE audit_rack_resources (
        kind varchar(10) NOT NULL,
        id varchar(64) NOT NULL,
        app varchar(200) NOT NULL,
        verdict varchar(10) NOT NULL,
        rack_created_at varchar(64),
        seen_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT audit_rack_resources_pkey PRIMARY KEY (kind, id),
        CONSTRAINT audit_rack_resources_kind_known CHECK (kind IN ('build', 'release')),
        CONSTRAINT audit_rack_resources_verdict_known CHECK (verdict IN ('baseline', 'gateway', 'direct'))
      )`);
    await queryRunner.query(`
      CREATE TABLE audit_rack_reconciliation (
        id smallint PRIMARY KEY,
        last_run_at timestamptz NOT NULL,
        CONSTRAINT audit_rack_reconciliation_single_row CHECK (id = 1)
      )`);
    await queryRunner.query(
      `CREATE INDEX audit_events_created_ids ON audit_events USING gin ((details->'createdIds')) WHERE details ? 'createdIds'`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX audit_events_created_ids`);
    await queryRunner.query(`DROP TABLE audit_rack_reconciliation`);
    await queryRunner.query(`DROP TABLE audit_rack_resources`);
  }
}

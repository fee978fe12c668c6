import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Retention of the audit trail: the anchor (the sequence number and HMAC of the newest event removed,
 * which the oldest kept event links to), and one way through the append-only trigger, for
 * `npm run audit:retain` alone. A DELETE passes only inside a transaction that set
 * `rgw.audit_retention` and only for events up to the anchor that same transaction recorded; UPDATE
 * and TRUNCATE never pass. Anyone who can set that can also disable the trigger (the README's threat
 * model): the chain, the anchor's attestation in the chain and outside checkpoints are what show it.
 */
export class CreateAuditRetentionAnchor1764470000000 implements MigrationInterface {
  name = 'CreateAuditRetentionAnchor1764470000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE audit_chain_anchor (
        id smallint PRIMARY KEY,
        seq bigint NOT NULL,
        hash bytea NOT NULL,
        CONSTRAINT audit_chain_anchor_single_row CHECK (id = 1)
      )`);
    await queryRunner.query(`
      CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'DELETE' AND current_setting('rgw.audit_retention', true) = 'on'
           AND OLD.seq <= (SELECT seq FROM audit_chain_anchor WHERE id = 1) THEN
          RETURN OLD;
        END IF;
        RAISE EXCEPTION 'audit events are append-only';
      END $$`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'audit events are append-only';
      END $$`);
    await queryRunner.query(`DROP TABLE audit_chain_anchor`);
  }
}

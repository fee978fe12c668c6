import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The audit trail: append-only events, each chained to the one before it by an HMAC the database
 * cannot forge, and the head of that chain, which appends lock so instances writing at once stay in
 * one order.
 */
export class CreateAuditTrail1764400000000 implements MigrationInterface {
  name = 'CreateAuditTrail1764400000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE audit_events (
        seq bigint PRIMARY KEY,
        id uuid NOT NULL,
        occurred_at timestamptz NOT NULL,
        kind varchar(40) NOT NULL,
        request_id varchar(64),
        actor_email varchar(320),
        actor_token_id uuid,
        client_ip varchar(64),
        user_agent varchar(512),
        method varchar(16),
        path text,
        route varchar(200),
        action varchar(20),
        subject varchar(40),
        app varchar(200),
        decision varchar(10) NOT NULL,
        reason text,
        status integer,
        duration_ms integer,
        bytes_in bigint,
        bytes_out bigint,
        details jsonb NOT NULL DEFAULT '{}',
        prev_hash bytea NOT NULL,
        hash bytea NOT NULL,
        CONSTRAINT audit_events_decision_known CHECK (decision IN ('allowed', 'denied'))
      )`);
    await queryRunner.query(`CREATE UNIQUE INDEX audit_events_id_key ON audit_events (id)`);
    await queryRunner.query(`CREATE INDEX audit_events_occurred_at ON audit_events (occurred_at)`);
    await queryRunner.query(`CREATE INDEX audit_events_actor ON audit_events (actor_email, seq)`);
    await queryRunner.query(`CREATE INDEX audit_events_app ON audit_events (app, seq)`);
    await queryRunner.query(`CREATE INDEX audit_events_request ON audit_events (request_id)`);
    await queryRunner.query(`
      CREATE TABLE audit_chain_head (
        id smallint PRIMARY KEY,
        seq bigint NOT NULL,
        hash bytea NOT NULL,
        CONSTRAINT audit_chain_head_single_row CHECK (id = 1)
      )`);
    await queryRunner.query(`INSERT INTO audit_chain_head (id, seq, hash) VALUES (1, 0, decode(repeat('00', 32), 'hex'))`);
    // The gateway only ever appends; a change or removal must come from outside it, and the chain shows it.
    await queryRunner.query(`
      CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'audit events are append-only';
      END $$`);
    await queryRunner.query(
      `CREATE TRIGGER audit_events_no_change BEFORE UPDATE OR DELETE ON audit_events FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()`,
    );
    await queryRunner.query(
      `CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE audit_chain_head`);
    await queryRunner.query(`DROP TABLE audit_events`);
    await queryRunner.query(`DROP FUNCTION audit_events_append_only()`);
  }
}

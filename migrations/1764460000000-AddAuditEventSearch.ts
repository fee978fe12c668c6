import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Searching the audit trail: the words of each event (path, route, reason, actor, app and the strings
 * of its details) kept in a column with a GIN index, and indexes for the listing's other filters, each
 * ending in `seq` so a filtered page is read newest first straight from the index.
 *
 * The words are stored rather than only indexed as an expression: a page is `ORDER BY seq DESC LIMIT n`,
 * and when a word is common the planner walks the sequence backwards and tests each event, which costs
 * ~15 µs an event when the words must be computed again, about 1 µs when they are read.
 *
 * The table is append-only (its trigger refuses UPDATE), so existing events get their words by a
 * rewrite, not an update: the column is added as a generated column, which Postgres computes while it
 * rewrites the table (no row trigger fires), and then made a plain column that an insert trigger fills.
 * It does not stay generated because TypeORM keeps generation expressions in a table of its own.
 */
export class AddAuditEventSearch1764460000000 implements MigrationInterface {
  name = 'AddAuditEventSearch1764460000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    // Punctuation splits words (a path's segments, an email's parts, KEY_NAME), as the API splits a query.
    // Query keys and env keys are strings of details too; the times of folded reads are not words.
    await queryRunner.query(`
      CREATE FUNCTION audit_event_words(path text, route text, reason text, actor_email text, app text, details jsonb)
      RETURNS tsvector LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
        SELECT strip(to_tsvector('simple'::regconfig, regexp_replace(
          coalesce(path, '') || ' ' || coalesce(route, '') || ' ' || coalesce(reason, '') || ' ' ||
          coalesce(actor_email, '') || ' ' || coalesce(app, '') || ' ' ||
          jsonb_path_query_array(details - '{firstAt,lastAt}'::text[], 'strict $.** ? (@.type() == "string")')::text,
          '[^[:alnum:]]+', ' ', 'g')))
      $$`);
    await queryRunner.query(`
      ALTER TABLE audit_events ADD COLUMN words tsvector NOT NULL
        GENERATED ALWAYS AS (audit_event_words(path, route, reason, actor_email, app, details)) STORED`);
    await queryRunner.query(`ALTER TABLE audit_events ALTER COLUMN words DROP EXPRESSION`);
    await queryRunner.query(`
      CREATE FUNCTION audit_events_fill_words() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        NEW.words := audit_event_words(NEW.path, NEW.route, NEW.reason, NEW.actor_email, NEW.app, NEW.details);
        RETURN NEW;
      END $$`);
    await queryRunner.query(
      `CREATE TRIGGER audit_events_words BEFORE INSERT ON audit_events FOR EACH ROW EXECUTE FUNCTION audit_events_fill_words()`,
    );
    await queryRunner.query(`CREATE INDEX audit_events_words ON audit_events USING gin (words)`);
    await queryRunner.query(`CREATE INDEX audit_events_kind ON audit_events (kind, seq)`);
    await queryRunner.query(`CREATE INDEX audit_events_status ON audit_events (status, seq)`);
    await queryRunner.query(`CREATE INDEX audit_events_subject ON audit_events (subject, action, seq)`);
    await queryRunner.query(`CREATE INDEX audit_events_action ON audit_events (action, seq)`);
    // The planner needs the new column's word statistics to choose between these indexes at once.
    await queryRunner.query(`ANALYZE audit_events`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const index of ['audit_events_action', 'audit_events_subject', 'audit_events_status', 'audit_events_kind', 'audit_events_words']) {
      await queryRunner.query(`DROP INDEX ${index}`);
    }
    await queryRunner.query(`DROP TRIGGER audit_events_words ON audit_events`);
    await queryRunner.query(`DROP FUNCTION audit_events_fill_words()`);
    await queryRunner.query(`ALTER TABLE audit_events DROP COLUMN words`);
    await queryRunner.query(`DROP FUNCTION audit_event_words(text, text, text, text, text, jsonb)`);
  }
}

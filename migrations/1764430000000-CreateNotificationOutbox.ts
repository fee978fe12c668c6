import PgBoss from 'pg-boss';
import { MigrationInterface, QueryRunner } from 'typeorm';

/** pg-boss's default schema, which the gateway's pg-boss uses. */
const SCHEMA = 'pgboss';
/** The queue of webhook deliveries (src/notifications). */
const QUEUE = 'webhook-notifications';

/**
 * The webhook outbox: pg-boss's tables, built by pg-boss's own construction SQL, and the one queue the
 * gateway sends to. pg-boss runs with `migrate: false`, so its schema changes only here. pg-boss is
 * pinned in package.json because this SQL comes from the installed release: moving to one with a new
 * schema version takes a migration running `PgBoss.getMigrationPlans` on databases still on the old
 * one, and until then pg-boss refuses to start ("pg-boss database requires migrations").
 */
export class CreateNotificationOutbox1764430000000 implements MigrationInterface {
  name = 'CreateNotificationOutbox1764430000000';
  /**
   * pg-boss's plan is a transaction of its own (BEGIN … COMMIT under an advisory lock); inside
   * TypeORM's, its COMMIT would end TypeORM's early.
   */
  transaction = false;

  async up(queryRunner: QueryRunner): Promise<void> {
    // Outside a transaction, the plan, the queue and this migration's record are separate commits: a
    // start that died between them finds the first ones done.
    const [{ installed }] = (await queryRunner.query(`SELECT to_regclass('${SCHEMA}.version') IS NOT NULL AS installed`)) as Array<{
      installed: boolean;
    }>;
    if (!installed) await queryRunner.query(PgBoss.getConstructionPlans(SCHEMA));
    // pg-boss's own createQueue statement; it does nothing for a queue that exists.
    await queryRunner.query(`SELECT ${SCHEMA}.create_queue($1, $2)`, [QUEUE, { policy: 'standard' }]);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP SCHEMA ${SCHEMA} CASCADE`);
  }
}

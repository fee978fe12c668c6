import { DataSource } from 'typeorm';
import { AuditChainAnchorEntity, AuditChainHeadEntity, AuditEventEntity } from '../../src/audit/audit-event.entity';
import { AuditRackReconciliationEntity, AuditRackResourceEntity } from '../../src/audit/rack-reconciliation.entity';
import { ApiTokenEntity } from '../../src/tokens/api-token.entity';
import { MfaMethodEntity } from '../../src/mfa/mfa-method.entity';
import { MfaBackupCodeEntity, MfaChallengeEntity, MfaFailureEntity, MfaUsedTotpStepEntity } from '../../src/mfa/mfa-records.entity';
import { SessionEntity } from '../../src/auth/session.entity';
import { GatewaySettingEntity } from '../../src/settings/gateway-setting.entity';
import { dataSourceOptions } from '../../src/database/data-source-options';
import { EmbeddedPostgres } from '../../src/database/embedded-postgres';
import { UserEntity } from '../../src/users/user.entity';
import { TestDatabase, createTestDatabase } from '../support/test-database';

/** Every entity of every module: a new one belongs here, or this check cannot see it. */
const ENTITIES = [
  UserEntity,
  ApiTokenEntity,
  SessionEntity,
  AuditEventEntity,
  AuditChainHeadEntity,
  AuditChainAnchorEntity,
  AuditRackResourceEntity,
  AuditRackReconciliationEntity,
  MfaMethodEntity,
  MfaBackupCodeEntity,
  MfaUsedTotpStepEntity,
  MfaChallengeEntity,
  MfaFailureEntity,
  GatewaySettingEntity,
];

describe('entities and migrations', () => {
  let database: TestDatabase;
  let embedded: EmbeddedPostgres | undefined;
  let dataSource: DataSource;

  beforeAll(async () => {
    database = await createTestDatabase();
    embedded = database.url ? undefined : await EmbeddedPostgres.start('memory://');
    const url = database.url ?? embedded?.connectionUrl ?? '';
    dataSource = new DataSource({ ...dataSourceOptions(url, { embedded: embedded !== undefined }), entities: ENTITIES });
    await dataSource.initialize();
  });

  afterAll(async () => {
    await dataSource.destroy();
    await embedded?.stop();
    await database.drop();
  });

  it('agree: after the migrations, TypeORM finds nothing to change for the entities', async () => {
    await dataSource.runMigrations();
    const pending = await dataSource.driver.createSchemaBuilder().log();
    expect(pending.upQueries.map((query) => query.query)).toEqual([]);
  });

  it('every migration can be undone and redone', async () => {
    for (let step = 0; step < dataSource.migrations.length; step += 1) await dataSource.undoLastMigration();
    expect(await dataSource.query(`SELECT to_regclass('public.users') AS users`)).toEqual([{ users: null }]);
    await dataSource.runMigrations();
    expect((await dataSource.driver.createSchemaBuilder().log()).upQueries).toEqual([]);
  });
});

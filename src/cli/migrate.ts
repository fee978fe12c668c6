import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { loadDatabaseConfig } from '../config/gateway-config';
import { dataSourceOptions } from '../database/data-source-options';
import { EmbeddedPostgres } from '../database/embedded-postgres';

/** `npm run migration:run` / `migration:revert`: the same migrations the gateway runs at start. */
async function main(command: string | undefined): Promise<void> {
  if (command !== 'run' && command !== 'revert') throw new Error('usage: migrate run|revert');
  const database = loadDatabaseConfig();
  const embedded = database.url ? undefined : await EmbeddedPostgres.start(database.dataDir);
  const url = database.url ?? embedded?.connectionUrl;
  if (!url) throw new Error('no database');
  const dataSource = new DataSource(dataSourceOptions(url, { embedded: embedded !== undefined }));
  await dataSource.initialize();
  try {
    if (command === 'run') {
      const applied = await dataSource.runMigrations();
      process.stdout.write(applied.length ? applied.map((migration) => `applied ${migration.name}\n`).join('') : 'schema is up to date\n');
    } else {
      await dataSource.undoLastMigration();
      process.stdout.write('reverted the last migration\n');
    }
  } finally {
    await dataSource.destroy();
    await embedded?.stop();
  }
}

main(process.argv[2]).catch((error: Error) => {
  process.stderr.write(`${error.message}\n`);
  process.exit(1);
});

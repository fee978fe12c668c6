import type { DataSourceOptions } from 'typeorm';
import { migrations } from '../../migrations';

/**
 * The one description of how the gateway talks to Postgres, shared by the app and the migration CLI.
 * Schema changes only ever come from `migrations/`.
 */
export function dataSourceOptions(url: string, { embedded }: { embedded: boolean }): DataSourceOptions {
  return {
    type: 'postgres',
    url,
    synchronize: false,
    migrations,
    migrationsTableName: 'migrations',
    migrationsTransactionMode: 'each',
    // PGlite's socket server serves one connection at a time; a larger pool drops connections.
    extra: { max: embedded ? 1 : 10 },
  };
}

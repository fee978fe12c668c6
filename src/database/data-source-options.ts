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
    // PGlite's socket server serves one connection at a time; a larger pool drops connections. An
    // unreachable server fails a query within seconds (a change is then refused 503) instead of hanging it.
    extra: embedded ? { max: 1 } : { max: 10, connectionTimeoutMillis: 5_000 },
  };
}

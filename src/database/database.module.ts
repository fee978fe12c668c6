import { DynamicModule, Inject, Injectable, Logger, Module, OnApplicationShutdown } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { TypeOrmModule, getDataSourceToken } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { GATEWAY_CONFIG, GatewayConfig } from '../config/gateway-config';
import { EmbeddedPostgres } from './embedded-postgres';
import { dataSourceOptions } from './data-source-options';

/** Where the database lives: the configured server, or an embedded engine started for this process. */
@Injectable()
export class DatabaseLocation implements OnApplicationShutdown {
  private readonly logger = new Logger(DatabaseLocation.name);
  private embedded?: EmbeddedPostgres;

  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    private readonly moduleRef: ModuleRef,
  ) {}

  get isEmbedded(): boolean {
    return this.embedded !== undefined;
  }

  async connectionUrl(): Promise<string> {
    if (this.config.database.url) return this.config.database.url;
    this.embedded ??= await EmbeddedPostgres.start(this.config.database.dataDir);
    this.logger.log(`Using the embedded Postgres engine (data in ${this.config.database.dataDir})`);
    return this.embedded.connectionUrl;
  }

  // The engine must outlive the pool: close TypeORM's connection first, then the engine.
  async onApplicationShutdown(): Promise<void> {
    if (!this.embedded) return;
    const dataSource = this.moduleRef.get<DataSource>(getDataSourceToken(), { strict: false });
    if (dataSource.isInitialized) await dataSource.destroy();
    await this.embedded.stop();
  }
}

@Module({})
export class DatabaseModule {
  static forRoot(): DynamicModule {
    return {
      module: DatabaseModule,
      imports: [
        TypeOrmModule.forRootAsync({
          extraProviders: [DatabaseLocation],
          inject: [DatabaseLocation],
          useFactory: async (location: DatabaseLocation) => ({
            ...dataSourceOptions(await location.connectionUrl(), { embedded: location.isEmbedded }),
            autoLoadEntities: true,
            migrationsRun: true,
          }),
        }),
      ],
    };
  }
}

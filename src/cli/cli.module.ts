import { AuditChainModule } from '../audit/audit-chain.module';
import { DynamicModule, Module } from '@nestjs/common';
import { GatewayConfigModule } from '../config/config.module';
import type { GatewayConfig } from '../config/gateway-config';
import { DatabaseModule } from '../database/database.module';
import { TokensModule } from '../tokens/tokens.module';
import { UsersModule } from '../users/users.module';

/** The gateway without HTTP: what operator commands run against. */
@Module({})
export class CliModule {
  static forRoot(config: GatewayConfig): DynamicModule {
    return {
      module: CliModule,
      imports: [GatewayConfigModule.forRoot(config), DatabaseModule.forRoot(), UsersModule, TokensModule, AuditChainModule],
    };
  }
}

import { DynamicModule, Global, Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { GATEWAY_CONFIG, GatewayConfig } from './gateway-config';

/**
 * Makes the validated GatewayConfig injectable everywhere. Validation happens before Nest starts
 * (see loadGatewayConfig), so a bad environment never gets as far as building modules.
 */
@Global()
@Module({})
export class GatewayConfigModule {
  static forRoot(config: GatewayConfig): DynamicModule {
    return {
      module: GatewayConfigModule,
      imports: [ConfigModule.forRoot({ ignoreEnvFile: true, skipProcessEnv: true, load: [() => ({ gateway: config })] })],
      // Modules inject the typed GatewayConfig; it is served from @nestjs/config's store.
      providers: [
        {
          provide: GATEWAY_CONFIG,
          inject: [ConfigService],
          useFactory: (store: ConfigService) => store.getOrThrow<GatewayConfig>('gateway'),
        },
      ],
      exports: [GATEWAY_CONFIG],
    };
  }
}

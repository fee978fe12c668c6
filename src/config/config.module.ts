import { DynamicModule, Global, Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
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
      providers: [{ provide: GATEWAY_CONFIG, useValue: config }],
      exports: [GATEWAY_CONFIG],
    };
  }
}

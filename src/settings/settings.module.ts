import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { GatewaySettingEntity } from './gateway-setting.entity';
import { GatewaySettings } from './gateway-settings.service';

/** Run-time settings in the database, shared by every instance; the modules they govern read them here. */
@Module({
  imports: [TypeOrmModule.forFeature([GatewaySettingEntity])],
  providers: [GatewaySettings],
  exports: [GatewaySettings],
})
export class SettingsModule {}

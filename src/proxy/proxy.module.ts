import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { RackModule } from '../rack/rack.module';
import { ProxyController } from './proxy.controller';
import { RackProxy } from './rack-proxy.service';
import { RackUpgradeHandler } from './rack-upgrade.handler';
import { WebsocketRefusal } from './websocket-refusal';

@Module({
  imports: [RackModule, AuthModule],
  controllers: [ProxyController],
  providers: [RackProxy, RackUpgradeHandler, WebsocketRefusal],
})
export class ProxyModule {}

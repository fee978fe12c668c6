import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { RackModule } from '../rack/rack.module';
import { RbacModule } from '../rbac/rbac.module';
import { RackRequestGuard } from './guards/rack-request.guard';
import { ProxyController } from './proxy.controller';
import { RackProxy } from './rack-proxy.service';
import { RackUpgradeHandler } from './rack-upgrade.handler';
import { ReleaseEnvPolicy } from './release-env.policy';
import { WebsocketRefusal } from './websocket-refusal';

@Module({
  imports: [RackModule, AuthModule, RbacModule],
  controllers: [ProxyController],
  providers: [RackProxy, RackUpgradeHandler, WebsocketRefusal, ReleaseEnvPolicy, RackRequestGuard],
  exports: [RackRequestGuard],
})
export class ProxyModule {}

import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { RackModule } from '../rack/rack.module';
import { RbacModule } from '../rbac/rbac.module';
import { UsersModule } from '../users/users.module';
import { RackRequestRewriteGuard } from './guards/rack-request-rewrite.guard';
import { RackRequestGuard } from './guards/rack-request.guard';
import { ProxyController } from './proxy.controller';
import { RackBehaviours } from './rack-behaviours';
import { RackExchanges } from './rack-exchanges.service';
import { RackProxy } from './rack-proxy.service';
import { RackUpgradeHandler } from './rack-upgrade.handler';
import { WebsocketRefusal } from './websocket-refusal';

@Module({
  imports: [RackModule, AuthModule, RbacModule, UsersModule],
  controllers: [ProxyController],
  providers: [RackProxy, RackUpgradeHandler, WebsocketRefusal, RackRequestGuard, RackRequestRewriteGuard, RackBehaviours, RackExchanges],
  exports: [RackRequestGuard, RackRequestRewriteGuard, RackBehaviours, RackExchanges],
})
export class ProxyModule {}

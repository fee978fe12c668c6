import { Module } from '@nestjs/common';
import { AbilityFactory } from './ability.factory';
import { PolicyGuard } from './guards/policy.guard';
import { RackAuthorizer } from './rack-authorizer.service';
import { RolesController } from './roles.controller';
import { EveryonesInstances, OwnedByCaller } from './subject-resolver';
import { TokenScopePolicy } from './token-scope.policy';

@Module({
  controllers: [RolesController],
  providers: [AbilityFactory, RackAuthorizer, PolicyGuard, TokenScopePolicy, OwnedByCaller, EveryonesInstances],
  exports: [AbilityFactory, RackAuthorizer, PolicyGuard, TokenScopePolicy, OwnedByCaller, EveryonesInstances],
})
export class RbacModule {}

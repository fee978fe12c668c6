import { Module } from '@nestjs/common';
import { AbilityFactory } from './ability.factory';
import { PolicyGuard } from './guards/policy.guard';
import { RackAuthorizer } from './rack-authorizer.service';
import { RolesController } from './roles.controller';
import { TokenScopePolicy } from './token-scope.policy';

@Module({
  controllers: [RolesController],
  providers: [AbilityFactory, RackAuthorizer, PolicyGuard, TokenScopePolicy],
  exports: [AbilityFactory, RackAuthorizer, PolicyGuard, TokenScopePolicy],
})
export class RbacModule {}

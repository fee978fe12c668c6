import { Module } from '@nestjs/common';
import { AbilityFactory } from './ability.factory';
import { PolicyGuard } from './guards/policy.guard';
import { RackAuthorizer } from './rack-authorizer.service';
import { RolesController } from './roles.controller';
import { SecretMasker } from './secret-masker.service';
import { TokenScopePolicy } from './token-scope.policy';

@Module({
  controllers: [RolesController],
  providers: [AbilityFactory, RackAuthorizer, SecretMasker, PolicyGuard, TokenScopePolicy],
  exports: [AbilityFactory, RackAuthorizer, SecretMasker, PolicyGuard, TokenScopePolicy],
})
export class RbacModule {}

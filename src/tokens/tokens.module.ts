import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { RbacModule } from '../rbac/rbac.module';
import { UsersModule } from '../users/users.module';
import { ApiTokenEntity } from './api-token.entity';
import { TokensController } from './tokens.controller';
import { ListedTokensOwner, TokenOwner } from './token-owner.resolvers';
import { TokensService } from './tokens.service';

@Module({
  imports: [TypeOrmModule.forFeature([ApiTokenEntity]), UsersModule, RbacModule],
  controllers: [TokensController],
  providers: [TokensService, TokenOwner, ListedTokensOwner],
  exports: [TokensService],
})
export class TokensModule {}

import { Module } from '@nestjs/common';
import { PassportModule } from '@nestjs/passport';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ClockModule } from '../common/clock';
import { TokensModule } from '../tokens/tokens.module';
import { UsersModule } from '../users/users.module';
import { AuthController } from './auth.controller';
import { AuthenticationFailures } from './authentication-failures';
import { AuthService } from './auth.service';
import { DatabaseSessionStore } from './database-session.store';
import { AuthenticationGuard } from './guards/authentication.guard';
import { CsrfGuard } from './guards/csrf.guard';
import { MeController } from './me.controller';
import { RequestAuthenticator } from './request-authenticator.service';
import { SessionEntity } from './session.entity';
import { GoogleStrategy } from './strategies/google.strategy';

@Module({
  imports: [TypeOrmModule.forFeature([SessionEntity]), PassportModule, ClockModule, UsersModule, TokensModule],
  controllers: [AuthController, MeController],
  providers: [
    AuthService,
    GoogleStrategy,
    DatabaseSessionStore,
    RequestAuthenticator,
    AuthenticationFailures,
    AuthenticationGuard,
    CsrfGuard,
  ],
  exports: [DatabaseSessionStore, RequestAuthenticator, AuthenticationFailures, AuthenticationGuard, CsrfGuard],
})
export class AuthModule {}

import { Inject, Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { Profile, Strategy } from 'passport-google-oauth20';
import type { StateStore } from 'passport-oauth2';
import { GATEWAY_CONFIG, GatewayConfig } from '../../config/gateway-config';
import type { UserEntity } from '../../users/user.entity';
import { AuthService } from '../auth.service';
import { GOOGLE_CALLBACK_PATH, SignInStateStore } from '../sign-in-state';

@Injectable()
export class GoogleStrategy extends PassportStrategy(Strategy, 'google') {
  constructor(
    @Inject(GATEWAY_CONFIG) config: GatewayConfig,
    private readonly auth: AuthService,
  ) {
    const google = config.google;
    super({
      // Without Google configured the strategy still registers; the login route refuses first.
      clientID: google?.clientId ?? 'unconfigured',
      clientSecret: google?.clientSecret ?? 'unconfigured',
      callbackURL: `${config.http.publicUrl}${GOOGLE_CALLBACK_PATH}`,
      authorizationURL: google?.authorizationUrl,
      tokenURL: google?.tokenUrl,
      userProfileURL: google?.userProfileUrl,
      scope: ['openid', 'email', 'profile'],
      // state (CSRF on the callback) and the PKCE verifier live in a signed cookie until the callback.
      // passport-oauth2 calls a store by its arity; @types/passport-oauth2 lacks the PKCE (5-argument) form.
      store: new SignInStateStore() as unknown as StateStore,
      pkce: true,
    });
  }

  validate(_accessToken: string, _refreshToken: string, profile: Profile): Promise<UserEntity> {
    return this.auth.signInWithGoogle(profile);
  }
}

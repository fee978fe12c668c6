import { Inject, Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { Profile, Strategy } from 'passport-google-oauth20';
import { GATEWAY_CONFIG, GatewayConfig } from '../../config/gateway-config';
import type { UserEntity } from '../../users/user.entity';
import { AuthService } from '../auth.service';

export const GOOGLE_CALLBACK_PATH = '/api/v1/auth/callback';

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
      // state (CSRF on the callback) and PKCE both live in the server-side session.
      state: true,
      pkce: true,
    });
  }

  validate(_accessToken: string, _refreshToken: string, profile: Profile): Promise<UserEntity> {
    return this.auth.signInWithGoogle(profile);
  }
}

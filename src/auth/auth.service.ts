import { Inject, Injectable } from '@nestjs/common';
import type { Profile } from 'passport-google-oauth20';
import { GATEWAY_CONFIG, GatewayConfig } from '../config/gateway-config';
import { ROLE_DEFINITIONS } from '../rbac/roles';
import type { UserEntity } from '../users/user.entity';
import { UsersService } from '../users/users.service';
import { SignInRefusedError } from './auth.errors';

/** Decides whether a Google identity may sign in, and as which user. */
@Injectable()
export class AuthService {
  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    private readonly users: UsersService,
  ) {}

  async signInWithGoogle(profile: Profile): Promise<UserEntity> {
    const claims = (profile._json ?? {}) as { email?: string; email_verified?: boolean | string; hd?: string };
    const email = (profile.emails?.[0]?.value ?? claims.email)?.toLowerCase();
    if (!email) throw new SignInRefusedError('the Google account has no email address');
    const verified = claims.email_verified === true || claims.email_verified === 'true';
    if (!verified) throw new SignInRefusedError(`${email} is not verified by Google`);
    this.checkDomain(email, claims.hd);

    const user = await this.users.findByEmail(email);
    if (user) {
      if (user.disabled) throw new SignInRefusedError(`${email} is disabled`);
      if (ROLE_DEFINITIONS[user.role].tokensOnly)
        throw new SignInRefusedError(`${email} is a ${user.role} service account: it works through API tokens only`);
      return user;
    }
    if (this.config.adminEmails.includes(email)) return this.users.create(email, 'admin', profile.displayName ?? '');
    throw new SignInRefusedError(`${email} is not a user of this gateway; ask an admin to add you`);
  }

  /**
   * With allowed domains set, the address must be in one of them and Google must vouch for it as a
   * Workspace account of that domain (`hd`): a personal Google account can carry any verified address.
   */
  private checkDomain(email: string, hostedDomain: string | undefined): void {
    const allowed = this.config.google?.allowedDomains ?? [];
    if (allowed.length === 0) return;
    const domain = email.slice(email.lastIndexOf('@') + 1);
    if (!allowed.includes(domain) || hostedDomain?.toLowerCase() !== domain) {
      throw new SignInRefusedError(`${email} is not in an allowed Google Workspace domain`);
    }
  }
}

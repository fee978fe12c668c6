import { ExecutionContext, Inject, Injectable, ServiceUnavailableException } from '@nestjs/common';
import { AuthGuard } from '@nestjs/passport';
import type { FastifyRequest } from 'fastify';
import { GATEWAY_CONFIG, GatewayConfig } from '../../config/gateway-config';
import { safeReturnTo } from '../return-to';

/**
 * Runs the Google OAuth dance through passport: on the login route it remembers where to return and
 * redirects to Google; on the callback it checks state, redeems the code and resolves the user.
 */
@Injectable()
export class GoogleOAuthGuard extends AuthGuard('google') {
  constructor(@Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig) {
    super({ session: false });
  }

  override canActivate(context: ExecutionContext) {
    if (!this.config.google) {
      throw new ServiceUnavailableException({ code: 'google_not_configured', message: 'Google sign-in is not configured on this gateway' });
    }
    const request = context.switchToHttp().getRequest<FastifyRequest<{ Querystring: Record<string, unknown> }>>();
    if (!('code' in request.query) && !('error' in request.query)) {
      request.session.returnTo = safeReturnTo(request.query.return_to);
    }
    return super.canActivate(context);
  }
}

import { ExecutionContext, Inject, Injectable, ServiceUnavailableException, UnauthorizedException } from '@nestjs/common';
import { AuthGuard, type AuthGuardAuthenticateOptions } from '@nestjs/passport';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { GATEWAY_CONFIG, GatewayConfig } from '../../config/gateway-config';
import { safeReturnTo } from '../return-to';
import { SignInStateCookie } from '../sign-in-state';

declare module 'fastify' {
  interface FastifyRequest {
    /** Where the browser goes after sign-in, as the login route was asked; set on the callback. */
    signInReturnTo?: string;
  }
}

type SignInRequest = FastifyRequest<{ Querystring: Record<string, unknown> }>;

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
    const request = context.switchToHttp().getRequest<SignInRequest>();
    const reply = context.switchToHttp().getResponse<FastifyReply>();
    request.signInState = new SignInStateCookie(request, reply, this.config.http.httpsOnly);
    return super.canActivate(context);
  }

  /** On the login route: what the state store keeps with the sign-in until the callback. */
  override getAuthenticateOptions(context: ExecutionContext): AuthGuardAuthenticateOptions | undefined {
    const request = context.switchToHttp().getRequest<SignInRequest>();
    if ('code' in request.query || 'error' in request.query) return undefined;
    // passport-oauth2 hands an object `state` to the state store; @types/passport knows only strings.
    return { state: { returnTo: safeReturnTo(request.query.return_to) } } as unknown as AuthGuardAuthenticateOptions;
  }

  override handleRequest<TUser>(
    error: Error | null,
    user: TUser | false,
    info: { state?: { returnTo?: string } } | undefined,
    context: ExecutionContext,
  ): TUser {
    if (error) throw error;
    if (!user) throw new UnauthorizedException({ code: 'sign_in_failed', message: 'sign-in failed; start it again' });
    context.switchToHttp().getRequest<FastifyRequest>().signInReturnTo = info?.state?.returnTo;
    return user;
  }
}

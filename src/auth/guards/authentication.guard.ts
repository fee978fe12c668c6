import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { PipelineRequest } from '../../common/pipeline-request';
import { isGatewayPath, isUiPath } from '../../common/gateway-paths';
import { AuthenticationFailures } from '../authentication-failures';
import { AccountLockedError, AuthenticationRequiredError, InvalidAuthenticationError } from '../auth.errors';
import { IS_PUBLIC } from '../decorators/public.decorator';
import { AuthenticationResult, RequestAuthenticator } from '../request-authenticator.service';

/**
 * Every route needs a principal unless marked @Public(). Proxied rack paths take only gateway tokens
 * (a browser's cookie must never drive the rack); the gateway's own API also takes its session, and
 * its pages under /ui/ only the session.
 */
@Injectable()
export class AuthenticationGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly authenticator: RequestAuthenticator,
    private readonly failures: AuthenticationFailures,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [context.getHandler(), context.getClass()])) return true;
    const request = context.switchToHttp().getRequest<PipelineRequest>();

    const result = await this.authenticate(request);
    if (result.outcome === 'missing') throw new AuthenticationRequiredError();
    if (result.outcome === 'invalid') {
      await this.failures.report(request);
      throw new InvalidAuthenticationError();
    }
    if (result.outcome === 'locked') throw new AccountLockedError(result.until);
    request.principal = result.principal;
    return true;
  }

  private async authenticate(request: PipelineRequest): Promise<AuthenticationResult> {
    // The pages are for people in a browser, whose Authorization (Basic credentials it remembers for
    // the origin, say) must not sign them in there.
    if (isUiPath(request.url)) return this.authenticator.fromSession(request.session);
    const result = await this.authenticator.fromAuthorization(request.headers.authorization);
    if (result.outcome === 'missing' && isGatewayPath(request.url)) return this.authenticator.fromSession(request.session);
    return result;
  }
}

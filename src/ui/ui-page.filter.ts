import { type ArgumentsHost, Catch } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AuthenticationRequiredError } from '../auth/auth.errors';
import { GatewayExceptionFilter } from '../common/errors/gateway-exception.filter';
import { SecondFactorRequiredError, SignInIncompleteError } from '../mfa/mfa.errors';

/**
 * Refusals a person can do something about, for the pages. A page asked for without a session sends
 * them to sign in, and one that needs their second factor first (a sign-in to finish, a step-up window
 * that closed) to the challenge; either way they come back to the page after. Everything else is
 * answered as on any gateway page.
 */
@Catch()
export class UiPageFilter extends GatewayExceptionFilter {
  override catch(exception: unknown, host: ArgumentsHost): void {
    const request = host.switchToHttp().getRequest<FastifyRequest>();
    const detour = request.method === 'GET' ? detourFor(exception, request.url) : undefined;
    if (detour === undefined) {
      super.catch(exception, host);
      return;
    }
    void host.switchToHttp().getResponse<FastifyReply>().redirect(detour, 303);
  }
}

function detourFor(exception: unknown, url: string): string | undefined {
  const back = encodeURIComponent(url);
  if (exception instanceof AuthenticationRequiredError) return `/api/v1/auth/login?return_to=${back}`;
  if (exception instanceof SignInIncompleteError || exception instanceof SecondFactorRequiredError) {
    return `/ui/mfa/challenge?return_to=${back}`;
  }
  return undefined;
}

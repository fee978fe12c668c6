import { Controller, Get, HttpCode, Inject, Post, Redirect, Req, Res, Session, UseGuards } from '@nestjs/common';
import { ApiFoundResponse, ApiNoContentResponse, ApiOkResponse, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { FastifySessionObject } from '@fastify/session';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { GATEWAY_CONFIG, GatewayConfig } from '../config/gateway-config';
import type { UserEntity } from '../users/user.entity';
import { RateLimit } from '../rate-limit/decorators/rate-limit.decorator';
import { ReachableBeforeSecondFactor } from '../mfa/decorators/mfa-gate.decorators';
import { Authorize } from '../rbac/decorators/authorize.decorator';
import { Public } from './decorators/public.decorator';
import { CsrfTokenResponseDto } from './dto/csrf-token-response.dto';
import { GoogleOAuthGuard } from './guards/google-oauth.guard';
import { DEFAULT_RETURN_TO } from './return-to';

@ApiTags('auth')
@Controller('api/v1/auth')
export class AuthController {
  constructor(@Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig) {}

  @Get('login')
  @Public()
  @RateLimit('signIns')
  @UseGuards(GoogleOAuthGuard)
  @ApiQuery({ name: 'return_to', required: false, description: 'A path on this gateway to land on after sign-in' })
  @ApiFoundResponse({ description: 'Redirect to Google' })
  startLogin(): void {
    // GoogleOAuthGuard has already answered with the redirect to Google.
  }

  @Get('callback')
  @Public()
  @UseGuards(GoogleOAuthGuard)
  @Redirect()
  @ApiFoundResponse({ description: 'Signed in; redirect to return_to with the session cookie set' })
  async completeLogin(@Req() request: FastifyRequest & { user: UserEntity }): Promise<{ url: string }> {
    const returnTo = request.signInReturnTo ?? DEFAULT_RETURN_TO;
    // A fresh session id at sign-in, so a session planted before login cannot be ridden afterwards.
    await request.session.regenerate();
    request.session.userId = request.user.id;
    // Google is the first factor: an enrolled person finishes with their second, one who must enrol enrols.
    const next = secondFactorPage(request.user, this.config.mfa.required);
    return { url: next ? `${next}?return_to=${encodeURIComponent(returnTo)}` : returnTo };
  }

  @Post('logout')
  @HttpCode(204)
  @Authorize()
  @ReachableBeforeSecondFactor()
  @ApiNoContentResponse({ description: 'Session revoked on the server' })
  async logout(@Session() session: FastifySessionObject): Promise<void> {
    await session.destroy();
  }

  @Get('csrf')
  @Authorize()
  @ReachableBeforeSecondFactor()
  @ApiOkResponse({ type: CsrfTokenResponseDto })
  getCsrfToken(@Res({ passthrough: true }) reply: FastifyReply): CsrfTokenResponseDto {
    return { token: reply.generateCsrf() };
  }
}

/** The page a new sign-in goes through before return_to, if any. */
function secondFactorPage(user: UserEntity, enrolmentRequired: boolean): string | undefined {
  if (user.mfaEnrolledAt !== null) return '/ui/mfa/challenge';
  return enrolmentRequired ? '/ui/mfa/enroll' : undefined;
}

import { Body, Controller, Get, Header, HttpCode, HttpStatus, Post, Query, Redirect, Req, UseFilters } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { CsrfToken } from '../auth/decorators/csrf-token.decorator';
import { CurrentPrincipal } from '../auth/decorators/current-principal.decorator';
import type { Principal } from '../auth/principal';
import { safeReturnTo } from '../auth/return-to';
import { ClientAddress } from '../common/client-address';
import { ReachableBeforeSecondFactor, ReachableForEnrolment, RequiresMfa } from '../mfa/decorators/mfa-gate.decorators';
import { Authorize } from '../rbac/decorators/authorize.decorator';
import { ConfirmAuthenticatorDto } from './dto/confirm-authenticator.dto';
import { VerifyCodeDto } from './dto/verify-code.dto';
import { MfaPages } from './mfa-pages.service';
import { UiPageFilter } from './ui-page.filter';

const HTML = 'text/html; charset=utf-8';

/**
 * The second-factor pages a browser signs in through: the challenge after Google, and enrolment. They
 * pass the same pipeline and MFA gates as the /api/v1/mfa routes they mirror, with the session as
 * their only credential; their security-key buttons call those routes from the page's script.
 */
@ApiExcludeController()
@UseFilters(UiPageFilter)
@Controller('ui/mfa')
export class MfaPagesController {
  constructor(
    private readonly pages: MfaPages,
    private readonly clientAddress: ClientAddress,
  ) {}

  @Get('challenge')
  @Authorize()
  @ReachableBeforeSecondFactor()
  @Header('content-type', HTML)
  showChallenge(
    @CurrentPrincipal() principal: Principal,
    @Query('return_to') returnTo: unknown,
    @CsrfToken() csrfToken: string,
  ): Promise<string> {
    return this.pages.challenge(principal, { returnTo: safeReturnTo(returnTo), csrfToken });
  }

  @Post('challenge')
  @Authorize()
  @ReachableBeforeSecondFactor()
  @Redirect()
  async verifyCode(
    @CurrentPrincipal() principal: Principal,
    @Body() form: VerifyCodeDto,
    @CsrfToken() csrfToken: string,
    @Req() request: FastifyRequest,
  ): Promise<{ url: string; statusCode: number }> {
    const returnTo = safeReturnTo(form.return_to);
    await this.pages.verifyCode(principal, form.code, this.clientAddress.of(request.raw), { returnTo, csrfToken });
    return { url: returnTo, statusCode: HttpStatus.SEE_OTHER };
  }

  @Get('enroll')
  @Authorize()
  @ReachableForEnrolment()
  @RequiresMfa('step-up')
  @Header('content-type', HTML)
  showEnrolment(
    @CurrentPrincipal() principal: Principal,
    @Query('return_to') returnTo: unknown,
    @CsrfToken() csrfToken: string,
  ): Promise<string> {
    return this.pages.startEnrolment(principal, { returnTo: safeReturnTo(returnTo), csrfToken });
  }

  @Post('enroll/totp')
  @Authorize()
  @ReachableForEnrolment()
  @RequiresMfa('step-up')
  @HttpCode(200)
  @Header('content-type', HTML)
  confirmAuthenticator(
    @CurrentPrincipal() principal: Principal,
    @Body() form: ConfirmAuthenticatorDto,
    @CsrfToken() csrfToken: string,
  ): Promise<string> {
    return this.pages.confirmAuthenticator(principal, form.id, form.code, { returnTo: safeReturnTo(form.return_to), csrfToken });
  }
}

import { BadRequestException, Inject, Injectable } from '@nestjs/common';
import type { Principal } from '../auth/principal';
import { GATEWAY_CONFIG, GatewayConfig } from '../config/gateway-config';
import { MfaEnrolment, type StartedTotpEnrolment } from '../mfa/mfa-enrolment.service';
import { InvalidSecondFactorError } from '../mfa/mfa.errors';
import { proofFromCode } from '../mfa/second-factor-proof';
import { SecondFactors } from '../mfa/second-factors.service';
import { StepUpWindows } from '../mfa/step-up-windows';
import { challengePage, nothingEnrolledPage } from './templates/mfa-challenge.template';
import { enrolledPage, enrolmentPage } from './templates/mfa-enrolment.template';
import { RefusedFormError, refusalMessage } from './ui.errors';

/** What every page needs besides the person: where they go next, and a CSRF token for its forms. */
export interface PageContext {
  readonly returnTo: string;
  readonly csrfToken: string;
}

/**
 * The MFA pages: the same operations as /api/v1/mfa (the same services, the same step-up window
 * opened on success), answered as HTML. A refused code shows its form again with the reason.
 */
@Injectable()
export class MfaPages {
  constructor(
    private readonly enrolment: MfaEnrolment,
    private readonly secondFactors: SecondFactors,
    private readonly stepUps: StepUpWindows,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  async challenge(principal: Principal, { returnTo, csrfToken }: PageContext, error?: string): Promise<string> {
    const methods = await this.enrolment.listMethods(principal.user.id);
    if (methods.length === 0) return nothingEnrolledPage(returnTo);
    return challengePage({
      email: principal.user.email,
      returnTo,
      csrfToken,
      totp: methods.some((method) => method.kind === 'totp'),
      securityKey: methods.some((method) => method.kind === 'webauthn'),
      error,
    });
  }

  /** Verifies a typed code (TOTP or backup) and opens the session's step-up window, which completes its sign-in. */
  async verifyCode(principal: Principal, code: string, clientIp: string, context: PageContext): Promise<void> {
    try {
      const proof = proofFromCode(code);
      if (!proof) throw new InvalidSecondFactorError('enter the six digits your app shows, or a backup code');
      await this.secondFactors.verify(principal.user, proof, clientIp);
    } catch (error) {
      if (!(error instanceof InvalidSecondFactorError)) throw error;
      throw new RefusedFormError(error, await this.challenge(principal, context, refusalMessage(error)));
    }
    await this.stepUps.open(principal);
  }

  /** Starts a TOTP enrolment (replacing any pending one, so only the QR code shown last works) and shows it. */
  async startEnrolment(principal: Principal, context: PageContext): Promise<string> {
    return this.enrolmentPage(principal, context, await this.enrolment.startTotp(principal.user, 'Authenticator app'));
  }

  /** Confirms the pending authenticator with its code; a first method's backup codes are shown this once. */
  async confirmAuthenticator(principal: Principal, id: string, code: string, context: PageContext): Promise<string> {
    let backupCodes: string[] | null;
    try {
      ({ backupCodes } = await this.enrolment.confirmTotp(principal.user, id, code));
    } catch (error) {
      if (!(error instanceof BadRequestException)) throw error;
      const pending = await this.enrolment.resumeTotp(principal.user, id);
      throw new RefusedFormError(error, this.enrolmentPage(principal, context, pending, refusalMessage(error)));
    }
    await this.stepUps.open(principal);
    return enrolledPage({ backupCodes, returnTo: context.returnTo });
  }

  private enrolmentPage(principal: Principal, context: PageContext, totp: StartedTotpEnrolment, error?: string): string {
    const enrolled = principal.user.mfaEnrolledAt !== null;
    return enrolmentPage({
      ...context,
      email: principal.user.email,
      totp,
      enrolled,
      mayLeave: enrolled || !this.config.mfa.required,
      error,
    });
  }
}

import { ForbiddenException, HttpException, HttpStatus, NotFoundException, UnauthorizedException } from '@nestjs/common';
import type { CarriesAnswerHeaders } from '../common/errors/answer-headers';
import type { MfaLevel } from './mfa-levels';

/** Every kind of proof the gateway accepts, as the X-MFA-Methods header names them. */
export const ACCEPTED_METHODS = 'totp, backup-code, webauthn';

/**
 * An operation needs a second factor the request did not bring. Its text is what the convox CLI prints,
 * so it says exactly how to satisfy it from the CLI; its headers let other clients prompt.
 */
export class SecondFactorRequiredError extends UnauthorizedException implements CarriesAnswerHeaders {
  readonly answerHeaders: Readonly<Record<string, string>>;

  constructor(permission: string, level: Exclude<MfaLevel, 'none'>, publicUrl: string, windowMinutes: number) {
    const inline =
      'send a code with the request: the X-MFA-TOTP header, or the token as TOKEN.totp.CODE (or TOKEN.backup.CODE) in RACK_URL';
    const message =
      level === 'always'
        ? `${permission} needs a second factor with this very request: ${inline}`
        : `${permission} needs a second factor verified in the last ${windowMinutes} minutes: ` +
          `POST ${publicUrl}/api/v1/mfa/verify with {"code": "<TOTP or backup code>"} (or a security key) opens that window, or ${inline}`;
    super({ code: 'mfa_required', message });
    this.answerHeaders = { 'x-mfa-required': level, 'x-mfa-methods': ACCEPTED_METHODS };
  }
}

export class InvalidSecondFactorError extends UnauthorizedException {
  constructor(reason: string) {
    super({ code: 'invalid_second_factor', message: `second factor refused: ${reason}` });
  }
}

/** Too many failures from one address, whoever's account they were against. */
export class TooManySecondFactorFailuresError extends HttpException implements CarriesAnswerHeaders {
  readonly answerHeaders: Readonly<Record<string, string>>;

  constructor(retryAfterSeconds: number) {
    super(
      { code: 'rate_limited', message: 'too many failed second-factor attempts from your address; try again later' },
      HttpStatus.TOO_MANY_REQUESTS,
    );
    this.answerHeaders = { 'retry-after': String(retryAfterSeconds) };
  }
}

export class EnrollmentRequiredError extends ForbiddenException {
  constructor(publicUrl: string) {
    super({
      code: 'mfa_enrollment_required',
      message: `enrol a second factor before using the gateway: ${publicUrl}/ui/mfa/enroll (or POST /api/v1/mfa/totp)`,
    });
  }
}

/** A browser sign-in that has not yet passed its second factor. */
export class SignInIncompleteError extends UnauthorizedException {
  constructor(publicUrl: string) {
    super({ code: 'second_factor_required', message: `finish signing in with your second factor: ${publicUrl}/ui/mfa/challenge` });
  }
}

export class MfaMethodNotFoundError extends NotFoundException {
  constructor(id: string) {
    super({ code: 'mfa_method_not_found', message: `no second factor ${id} of yours` });
  }
}

export class MfaChallengeExpiredError extends UnauthorizedException {
  constructor() {
    super({
      code: 'invalid_second_factor',
      message: 'second factor refused: the challenge is unknown, used or expired; ask for a new one',
    });
  }
}

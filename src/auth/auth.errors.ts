import { ForbiddenException, UnauthorizedException } from '@nestjs/common';

/** Said to any caller whose credential fails, whatever the reason, as the rack itself says it. */
export class InvalidAuthenticationError extends UnauthorizedException {
  constructor() {
    super({ code: 'invalid_authentication', message: 'invalid authentication' });
  }
}

export class AuthenticationRequiredError extends UnauthorizedException {
  constructor() {
    super({
      code: 'authentication_required',
      message: 'authentication required: send a gateway token as the Basic-auth password or a Bearer token',
    });
  }
}

export class SignInRefusedError extends ForbiddenException {
  constructor(reason: string) {
    super({ code: 'sign_in_refused', message: `sign-in refused: ${reason}` });
  }
}

export class InvalidCsrfTokenError extends ForbiddenException {
  constructor() {
    super({
      code: 'invalid_csrf_token',
      message: 'missing or invalid CSRF token: fetch one from GET /api/v1/auth/csrf and send it in X-CSRF-Token',
    });
  }
}

/** Said once a valid credential's user is locked out: no secret is at stake in saying why. */
export class AccountLockedError extends ForbiddenException {
  constructor(until: Date) {
    super({
      code: 'account_locked',
      message: `account locked until ${until.toISOString()} after repeated failed second-factor attempts; an admin can unlock it sooner`,
    });
  }
}

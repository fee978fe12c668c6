import { HttpException } from '@nestjs/common';
import type { CarriesAnswerPage } from '../common/errors/answer-page';

/**
 * A form's refusal (a wrong code), answered with the form again saying why. It keeps the refusal's
 * status, code and message, so the audit trail records it as it would the API's.
 */
export class RefusedFormError extends HttpException implements CarriesAnswerPage {
  constructor(
    refusal: HttpException,
    readonly answerPage: string,
  ) {
    super(refusal.getResponse(), refusal.getStatus(), { cause: refusal });
  }
}

/** What a refusal says to a person: the message its problem details would carry. */
export function refusalMessage(refusal: HttpException): string {
  const response = refusal.getResponse();
  const message = typeof response === 'object' ? (response as { message?: unknown }).message : response;
  return typeof message === 'string' ? message : refusal.message;
}

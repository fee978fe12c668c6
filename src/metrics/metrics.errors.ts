import { UnauthorizedException } from '@nestjs/common';
import type { CarriesAnswerHeaders } from '../common/errors/answer-headers';

export class MetricsTokenRequiredError extends UnauthorizedException implements CarriesAnswerHeaders {
  readonly answerHeaders = { 'www-authenticate': 'Bearer realm="Rack Gateway metrics"' };

  constructor() {
    super({ code: 'metrics_token_required', message: 'the metrics need the metrics token: send METRICS_TOKEN as a Bearer token' });
  }
}

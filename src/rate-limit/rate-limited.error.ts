import { ThrottlerException } from '@nestjs/throttler';
import type { CarriesAnswerHeaders } from '../common/errors/answer-headers';
import type { RateLimitBucket } from '../config/gateway-config';
import { BUCKETS } from './rate-limit-buckets';

/**
 * A 429 that says which limit was hit and when to come back: `Retry-After`, and the IETF `RateLimit`
 * and `RateLimit-Policy` fields in the form Boundary sends. The message reaches the convox CLI as
 * `ERROR: …` and the admin API's problem details alike.
 */
export class RateLimitedError extends ThrottlerException implements CarriesAnswerHeaders {
  readonly answerHeaders: Readonly<Record<string, string>>;

  constructor(
    readonly bucket: RateLimitBucket,
    limit: number,
    secondsLeft: number,
  ) {
    super(`rate limited: ${BUCKETS[bucket].refusal} (${limit} a minute); retry in ${secondsLeft} s`);
    this.answerHeaders = {
      'retry-after': String(secondsLeft),
      'ratelimit-policy': `${limit};w=60;comment="${bucket}"`,
      ratelimit: `limit=${limit}, remaining=0, reset=${secondsLeft}`,
    };
  }
}

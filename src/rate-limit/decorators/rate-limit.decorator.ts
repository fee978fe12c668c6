import { SetMetadata } from '@nestjs/common';
import type { RateLimitBucket } from '../../config/gateway-config';

export const CLIENT_BUCKET = 'rgw:client-rate-limit-bucket';

/** Charges a route's requests to a per-client bucket on top of the client's overall one (sign-in starts). */
export const RateLimit = (bucket: Extract<RateLimitBucket, 'signIns'>) => SetMetadata(CLIENT_BUCKET, bucket);

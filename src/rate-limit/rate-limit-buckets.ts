import type { RateLimitBucket } from '../config/gateway-config';
import type { WhenCountersUnavailable } from './leased-throttler-storage';

export interface BucketDefinition {
  /** Counted per client address, or per caller (token, or user of a browser session). */
  readonly per: 'client' | 'caller';
  /** Without shared counters, reads by a valid caller pass; everything else is still limited, per instance. */
  readonly whenUnavailable: WhenCountersUnavailable;
  /** Ends "… in a minute" in the refusal the client reads. */
  readonly refusal: string;
}

/** Every bucket, in one place; limits per minute are configuration (RATE_LIMIT_*). */
export const BUCKETS: Readonly<Record<RateLimitBucket, BucketDefinition>> = {
  authFailures: { per: 'client', whenUnavailable: 'count-locally', refusal: 'too many failed authentications from your address' },
  signIns: { per: 'client', whenUnavailable: 'count-locally', refusal: 'too many sign-in attempts from your address' },
  ip: { per: 'client', whenUnavailable: 'allow', refusal: 'too many requests from your address' },
  read: { per: 'caller', whenUnavailable: 'allow', refusal: 'too many reads with this credential' },
  write: { per: 'caller', whenUnavailable: 'count-locally', refusal: 'too many changes with this credential' },
  stream: { per: 'caller', whenUnavailable: 'count-locally', refusal: 'too many exec, log and proxy sessions with this credential' },
  upload: { per: 'caller', whenUnavailable: 'count-locally', refusal: 'too many uploads with this credential' },
};

export const BUCKET_NAMES = Object.keys(BUCKETS) as RateLimitBucket[];

import { Injectable, type OnModuleInit } from '@nestjs/common';
import { InjectThrottlerOptions, InjectThrottlerStorage, type ThrottlerModuleOptions, normalizeIp } from '@nestjs/throttler';
import { AuthenticationFailures } from '../auth/authentication-failures';
import { ClientAddress } from '../common/client-address';
import type { PipelineRequest } from '../common/pipeline-request';
import type { RateLimitBucket } from '../config/gateway-config';
import type { LeasedThrottlerStorage } from './leased-throttler-storage';
import { RateLimitedError } from './rate-limited.error';
import { WINDOW_MS } from './window-counters';

/**
 * Charges requests to buckets and refuses what is over a limit with RateLimitedError. Also counts
 * refused credentials per client address, turning the failure past the limit into a 429.
 */
@Injectable()
export class RateLimiter implements OnModuleInit {
  private readonly limits: ReadonlyMap<string, number>;
  private readonly limitedListeners = new Set<(bucket: RateLimitBucket) => void>();

  constructor(
    @InjectThrottlerStorage() private readonly storage: LeasedThrottlerStorage,
    @InjectThrottlerOptions() options: ThrottlerModuleOptions,
    private readonly clientAddress: ClientAddress,
    private readonly authenticationFailures: AuthenticationFailures,
  ) {
    const throttlers = Array.isArray(options) ? options : options.throttlers;
    this.limits = new Map(throttlers.map((throttler) => [throttler.name ?? 'default', throttler.limit as number]));
  }

  onModuleInit(): void {
    this.authenticationFailures.onFailure((request) => this.charge('authFailures', this.clientOf(request)));
  }

  /** The client address as buckets count it: an IPv6 client is its /64, which one subscriber usually holds whole. */
  clientOf(request: PipelineRequest): string {
    return normalizeIp(this.clientAddress.of(request.raw));
  }

  /** Told of every request a limit refuses, by bucket: the metrics count them. */
  onLimited(listener: (bucket: RateLimitBucket) => void): void {
    this.limitedListeners.add(listener);
  }

  async charge(bucket: RateLimitBucket, tracker: string): Promise<void> {
    const limit = this.limitOf(bucket);
    const { isBlocked, timeToBlockExpire } = await this.storage.increment(`${bucket}:${tracker}`, WINDOW_MS, limit, WINDOW_MS, bucket);
    if (isBlocked) throw this.refusal(bucket, limit, timeToBlockExpire);
  }

  /** Refuses, without counting, when this instance already knows the bucket is full this window. */
  assertNotExhausted(bucket: RateLimitBucket, tracker: string): void {
    const limit = this.limitOf(bucket);
    const secondsLeft = this.storage.exhaustedFor(`${bucket}:${tracker}`, WINDOW_MS, limit);
    if (secondsLeft > 0) throw this.refusal(bucket, limit, secondsLeft);
  }

  private refusal(bucket: RateLimitBucket, limit: number, secondsLeft: number): RateLimitedError {
    for (const listener of this.limitedListeners) listener(bucket);
    return new RateLimitedError(bucket, limit, secondsLeft);
  }

  private limitOf(bucket: RateLimitBucket): number {
    const limit = this.limits.get(bucket);
    if (limit === undefined) throw new Error(`no rate limit configured for ${bucket}`);
    return limit;
  }
}

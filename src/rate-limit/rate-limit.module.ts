import { Module } from '@nestjs/common';
import { ThrottlerModule } from '@nestjs/throttler';
import { AuthModule } from '../auth/auth.module';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config';
import { CallerRateLimitGuard } from './guards/caller-rate-limit.guard';
import { ClientRateLimitGuard } from './guards/client-rate-limit.guard';
import { LeasedThrottlerStorage } from './leased-throttler-storage';
import { BUCKETS, BUCKET_NAMES } from './rate-limit-buckets';
import { RateLimiter } from './rate-limiter.service';
import { RateLimitCountersModule } from './rate-limit-counters.module';
import { WINDOW_MS, WindowCounters } from './window-counters';

/**
 * Rate limits per client address and per caller, on @nestjs/throttler's module, options and storage
 * contract. Counters are shared through Redis when REDIS_URL is set, kept in memory otherwise.
 */
@Module({
  imports: [
    AuthModule,
    RateLimitCountersModule,
    ThrottlerModule.forRootAsync({
      imports: [RateLimitCountersModule],
      inject: [GATEWAY_CONFIG, WindowCounters],
      useFactory: (config: GatewayConfig, counters: WindowCounters) => ({
        throttlers: BUCKET_NAMES.map((name) => ({ name, limit: config.rateLimits[name], ttl: WINDOW_MS })),
        storage: new LeasedThrottlerStorage(counters, (name) => BUCKETS[name as keyof typeof BUCKETS].whenUnavailable),
      }),
    }),
  ],
  providers: [RateLimiter, ClientRateLimitGuard, CallerRateLimitGuard],
  exports: [RateLimitCountersModule, RateLimiter, ClientRateLimitGuard, CallerRateLimitGuard],
})
export class RateLimitModule {}

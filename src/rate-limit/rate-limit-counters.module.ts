import { Module } from '@nestjs/common';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config';
import { RedisWindowCounters } from './redis-window-counters';
import { MemoryWindowCounters, WindowCounters } from './window-counters';

/** The counters behind every limit, as a provider so Nest closes the Redis connection at shutdown. */
@Module({
  providers: [
    {
      provide: WindowCounters,
      inject: [GATEWAY_CONFIG],
      useFactory: (config: GatewayConfig) => (config.redisUrl ? new RedisWindowCounters(config.redisUrl) : new MemoryWindowCounters()),
    },
  ],
  exports: [WindowCounters],
})
export class RateLimitCountersModule {}

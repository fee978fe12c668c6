import { Logger, type OnApplicationShutdown } from '@nestjs/common';
import Redis from 'ioredis';
import { WindowCounters } from './window-counters';

/** INCRBY, and on a new counter an expiry at its window's end: one round trip, atomic. */
const ADD_TO_WINDOW = `
local total = redis.call('INCRBY', KEYS[1], ARGV[1])
if total == tonumber(ARGV[1]) then redis.call('PEXPIREAT', KEYS[1], ARGV[2]) end
return total`;

type CountingRedis = Redis & { addToWindow(key: string, amount: number, expiresAt: number): Promise<number> };

/**
 * Counters every gateway instance shares. Commands fail at once while Redis is unreachable (no
 * offline queue, one retry, a short timeout), so a request never waits on a dead store: the rate
 * limiter decides what an unreachable store means for each bucket.
 */
export class RedisWindowCounters extends WindowCounters implements OnApplicationShutdown {
  readonly shared = true;
  private readonly logger = new Logger(RedisWindowCounters.name);
  private readonly redis: CountingRedis;
  private reachable: boolean | undefined;

  constructor(url: string) {
    super();
    this.redis = new Redis(url, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      commandTimeout: 500,
      enableAutoPipelining: true,
      keyPrefix: 'rgw:rate:',
      retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
    }) as CountingRedis;
    this.redis.defineCommand('addToWindow', { numberOfKeys: 1, lua: ADD_TO_WINDOW });
    this.redis.on('ready', () => this.setReachable(true));
    this.redis.on('error', () => this.setReachable(false));
    this.redis.on('end', () => this.setReachable(false));
  }

  get available(): boolean {
    return this.reachable === true;
  }

  add(key: string, amount: number, windowEndsAt: number): Promise<number> {
    return this.redis.addToWindow(key, amount, windowEndsAt);
  }

  onApplicationShutdown(): void {
    this.redis.disconnect();
  }

  /** Logged on change only: a Redis outage is one warning, not one per request. */
  private setReachable(reachable: boolean): void {
    if (reachable === this.reachable) return;
    this.reachable = reachable;
    if (reachable) this.logger.log('Rate-limit counters reachable in Redis: limits hold across instances');
    else this.logger.warn('Rate-limit counters unreachable in Redis: reads pass uncounted, other limits count on this instance only');
  }
}

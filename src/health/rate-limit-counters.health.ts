import { Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { WindowCounters } from '../rate-limit/window-counters';

/** With REDIS_URL, the shared rate-limit counters must be reachable; without it there is nothing to reach. */
@Injectable()
export class RateLimitCountersHealthIndicator {
  constructor(
    private readonly counters: WindowCounters,
    private readonly health: HealthIndicatorService,
  ) {}

  /** Undefined when counters are this instance's own: readiness then has no such entry. */
  check(key: string) {
    if (!this.counters.shared) return undefined;
    const indicator = this.health.check(key);
    return this.counters.available
      ? indicator.up()
      : indicator.down({ message: 'Redis unreachable: reads pass uncounted, other limits count per instance' });
  }
}

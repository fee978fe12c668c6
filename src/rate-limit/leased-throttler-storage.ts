import type { ThrottlerStorage } from '@nestjs/throttler';
import { MemoryWindowCounters, type WindowCounters } from './window-counters';

type ThrottlerStorageRecord = Awaited<ReturnType<ThrottlerStorage['increment']>>;

/** What a bucket does while shared counters cannot be reached. */
export type WhenCountersUnavailable = 'allow' | 'count-locally';

/** A lease takes at most this share of what is left of a window, so instances leave plenty for each other. */
const LEASE_SHARE = 1 / 16;

interface Lease {
  readonly windowEndsAt: number;
  /** Permits this instance took from the shared counter and has not used. */
  permits: number;
  /** The shared total when the last lease was taken. */
  leasedTotal: number;
  /** The shared counter reached the limit: refuse without asking again until the window ends. */
  exhausted: boolean;
  pending?: Promise<void>;
}

/**
 * @nestjs/throttler's storage contract over fixed one-minute windows. With shared counters (Redis) an
 * instance leases permits in batches instead of asking for each request: a batch is a sixteenth of
 * what is left, so most requests cost no round trip while the counter is far from its limit, and as
 * it nears the limit batches shrink to one and the count is exact. The shared counter only ever grows
 * by what was leased, so all instances together never admit more than the limit; what one leaves
 * unused when a window ends is lost. Once a counter is full, the instance refuses locally until the
 * window ends. The throttler library's own stores cost a Redis script (about 17 µs of this process's
 * CPU) or an array scan per request; see the bench.
 */
export class LeasedThrottlerStorage implements ThrottlerStorage {
  private readonly leases = new Map<string, Lease>();
  private readonly local = new MemoryWindowCounters();
  private latestWindowEnd = 0;

  constructor(
    private readonly counters: WindowCounters,
    private readonly whenUnavailable: (throttlerName: string) => WhenCountersUnavailable,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Seconds until the window ends when this instance knows `key` is over its limit in it, else 0; counts
   * nothing. With shared counters that is known once this instance was refused a lease for the key.
   */
  exhaustedFor(key: string, ttl: number, limit: number): number {
    const now = this.now();
    const windowEndsAt = windowEnd(now, ttl);
    const lease = this.leases.get(key);
    // Local counters hold every count without shared counters, and with them what was counted while they were down.
    const exhausted = (lease?.exhausted === true && lease.windowEndsAt === windowEndsAt) || this.local.totalOf(key, windowEndsAt) > limit;
    return exhausted ? secondsUntil(windowEndsAt, now) : 0;
  }

  async increment(key: string, ttl: number, limit: number, _blockDuration: number, throttlerName: string): Promise<ThrottlerStorageRecord> {
    const now = this.now();
    const windowEndsAt = windowEnd(now, ttl);
    if (!this.counters.shared) return record(this.local.addNow(key, 1, windowEndsAt), limit, windowEndsAt, now);

    const lease = this.leaseFor(key, windowEndsAt);
    while (lease.permits === 0 && !lease.exhausted) {
      lease.pending ??= this.renew(key, lease, limit).finally(() => (lease.pending = undefined));
      try {
        await lease.pending;
      } catch {
        return this.withoutCounters(key, limit, windowEndsAt, now, throttlerName);
      }
    }
    if (lease.exhausted) return record(limit + 1, limit, windowEndsAt, now);
    lease.permits -= 1;
    return record(lease.leasedTotal - lease.permits, limit, windowEndsAt, now);
  }

  private async renew(key: string, lease: Lease, limit: number): Promise<void> {
    const batch = Math.max(1, Math.floor((limit - lease.leasedTotal) * LEASE_SHARE));
    const total = await this.counters.add(key, batch, lease.windowEndsAt);
    const granted = Math.min(batch, limit - (total - batch));
    lease.leasedTotal = total;
    if (granted <= 0) lease.exhausted = true;
    else lease.permits += granted;
  }

  private withoutCounters(key: string, limit: number, windowEndsAt: number, now: number, throttlerName: string): ThrottlerStorageRecord {
    if (this.whenUnavailable(throttlerName) === 'allow') return record(0, limit, windowEndsAt, now);
    return record(this.local.addNow(key, 1, windowEndsAt), limit, windowEndsAt, now);
  }

  private leaseFor(key: string, windowEndsAt: number): Lease {
    if (windowEndsAt > this.latestWindowEnd) {
      this.latestWindowEnd = windowEndsAt;
      for (const [leasedKey, lease] of this.leases) if (lease.windowEndsAt < windowEndsAt) this.leases.delete(leasedKey);
    }
    let lease = this.leases.get(key);
    if (!lease || lease.windowEndsAt !== windowEndsAt) {
      lease = { windowEndsAt, permits: 0, leasedTotal: 0, exhausted: false };
      this.leases.set(key, lease);
    }
    return lease;
  }
}

function windowEnd(now: number, ttl: number): number {
  return (Math.floor(now / ttl) + 1) * ttl;
}

function secondsUntil(windowEndsAt: number, now: number): number {
  return Math.max(1, Math.ceil((windowEndsAt - now) / 1000));
}

/** Over the limit is blocked until the window ends, which is when the counter starts again. */
function record(totalHits: number, limit: number, windowEndsAt: number, now: number): ThrottlerStorageRecord {
  const secondsLeft = secondsUntil(windowEndsAt, now);
  const isBlocked = totalHits > limit;
  return { totalHits, timeToExpire: secondsLeft, isBlocked, timeToBlockExpire: isBlocked ? secondsLeft : 0 };
}

/**
 * Request counters in fixed one-minute windows, aligned to the clock so every instance agrees on
 * which window a request falls in. Kept by this instance (memory) or shared by all (Redis).
 */
export abstract class WindowCounters {
  /** Whether every instance sees the same counters; only then are permits leased in batches. */
  abstract readonly shared: boolean;
  /** Whether the counters can be reached now (readiness reports it). */
  abstract readonly available: boolean;
  /** Adds `amount` to `key`'s counter in the window ending at `windowEndsAt` (epoch ms); resolves to its new total. */
  abstract add(key: string, amount: number, windowEndsAt: number): Promise<number>;
}

export const WINDOW_MS = 60_000;

/** This instance's counters. Ended windows are swept when a new one starts, so idle keys do not pile up. */
export class MemoryWindowCounters extends WindowCounters {
  readonly shared = false;
  readonly available = true;
  private readonly counters = new Map<string, { windowEndsAt: number; total: number }>();
  private latestWindowEnd = 0;

  add(key: string, amount: number, windowEndsAt: number): Promise<number> {
    return Promise.resolve(this.addNow(key, amount, windowEndsAt));
  }

  addNow(key: string, amount: number, windowEndsAt: number): number {
    if (windowEndsAt > this.latestWindowEnd) this.sweep(windowEndsAt);
    const counter = this.counters.get(key);
    if (counter && counter.windowEndsAt === windowEndsAt) return (counter.total += amount);
    this.counters.set(key, { windowEndsAt, total: amount });
    return amount;
  }

  totalOf(key: string, windowEndsAt: number): number {
    const counter = this.counters.get(key);
    return counter && counter.windowEndsAt === windowEndsAt ? counter.total : 0;
  }

  private sweep(windowEndsAt: number): void {
    const previous = this.latestWindowEnd;
    this.latestWindowEnd = windowEndsAt;
    for (const [key, counter] of this.counters) if (counter.windowEndsAt <= previous) this.counters.delete(key);
  }
}

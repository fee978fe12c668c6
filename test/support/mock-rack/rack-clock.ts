/**
 * Rack time starts at 2026-01-01T00:00:00Z when the mock starts (or resets) and then runs at wall-clock speed:
 * timestamps stay stable across runs, yet still move for log `Since` windows and follow streams.
 */
export const RACK_EPOCH_MS = Date.UTC(2026, 0, 1);

export class RackClock {
  private startedAt = Date.now();

  nowMs(): number {
    return RACK_EPOCH_MS + (Date.now() - this.startedAt);
  }

  now(): Date {
    return new Date(this.nowMs());
  }

  restart(): void {
    this.startedAt = Date.now();
  }
}

/** Every timer the mock starts goes through here, so reset() and close() can cancel them all. */
export class TimerRegistry {
  private readonly cancellers = new Set<() => void>();

  /** Resolves true after `ms`, or false as soon as the signal aborts or cancelAll() runs. */
  sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
    return new Promise((resolve) => {
      if (signal?.aborted) {
        resolve(false);
        return;
      }
      const finish = (completed: boolean): void => {
        clearTimeout(timer);
        this.cancellers.delete(cancel);
        signal?.removeEventListener('abort', cancel);
        resolve(completed);
      };
      const cancel = (): void => finish(false);
      const timer = setTimeout(() => finish(true), Math.max(0, ms));
      this.cancellers.add(cancel);
      signal?.addEventListener('abort', cancel, { once: true });
    });
  }

  schedule(ms: number, action: () => void): void {
    void this.sleep(ms).then((completed) => {
      if (completed) action();
    });
  }

  cancelAll(): void {
    for (const cancel of [...this.cancellers]) cancel();
  }
}

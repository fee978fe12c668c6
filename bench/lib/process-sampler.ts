import { readFileSync, readdirSync } from 'node:fs';
import { readRssMiB } from '../../test/support/process-memory';

const SAMPLE_INTERVAL_MS = 50;
/** USER_HZ: the unit of /proc/<pid>/stat CPU times on Linux. */
const CLOCK_TICKS_PER_SECOND = 100;

/** User plus system CPU time a process has used, in seconds (all its threads). */
export function readCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name, which is parenthesised and may itself contain spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
}

export interface ProcessUsage {
  readonly rssIdleMiB: number;
  readonly rssPeakMiB: number;
  /** CPU seconds used while sampling. */
  readonly cpuSeconds: number;
  readonly wallSeconds: number;
}

/** Watches one process while a workload runs: RSS every 50 ms (idle value and peak) and CPU time used. */
export class ProcessSampler {
  private readonly rssIdleMiB: number;
  private rssPeakMiB: number;
  private readonly cpuAtStart: number;
  private readonly startedAt = process.hrtime.bigint();
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly pid: number) {
    this.rssIdleMiB = readRssMiB(pid);
    this.rssPeakMiB = this.rssIdleMiB;
    this.cpuAtStart = readCpuSeconds(pid);
    this.timer = setInterval(() => this.sample(), SAMPLE_INTERVAL_MS);
  }

  stop(): ProcessUsage {
    clearInterval(this.timer);
    this.sample();
    return {
      rssIdleMiB: this.rssIdleMiB,
      rssPeakMiB: this.rssPeakMiB,
      cpuSeconds: readCpuSeconds(this.pid) - this.cpuAtStart,
      wallSeconds: Number(process.hrtime.bigint() - this.startedAt) / 1e9,
    };
  }

  private sample(): void {
    try {
      this.rssPeakMiB = Math.max(this.rssPeakMiB, readRssMiB(this.pid));
    } catch {
      // The process is gone; the peak so far stands.
    }
  }
}

/**
 * CPU used by a local PostgreSQL server (every process named `postgres`) while a workload runs: the
 * gateway's database shares this machine's cores, so its work is part of what a request costs here.
 */
export class DatabaseCpuSampler {
  private readonly atStart: ReadonlyMap<number, number>;
  private readonly startedAt = process.hrtime.bigint();

  constructor() {
    this.atStart = DatabaseCpuSampler.read();
  }

  /**
   * CPU percent over the sampling time (100 = one core). A backend started meanwhile (the pool opening
   * connections) counts whole; one that ended meanwhile is missed.
   */
  stop(): number {
    const wallSeconds = Number(process.hrtime.bigint() - this.startedAt) / 1e9;
    let cpuSeconds = 0;
    for (const [pid, seconds] of DatabaseCpuSampler.read()) cpuSeconds += seconds - (this.atStart.get(pid) ?? 0);
    return (100 * cpuSeconds) / wallSeconds;
  }

  private static read(): Map<number, number> {
    const usage = new Map<number, number>();
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() === 'postgres') usage.set(Number(entry), readCpuSeconds(Number(entry)));
      } catch {
        // Gone between listing and reading.
      }
    }
    return usage;
  }
}

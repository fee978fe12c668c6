import { Injectable } from '@nestjs/common';
import { Clock } from '../common/clock';
import { RackConnection } from '../rack/rack-connection';

/** However often metrics are scraped (by every Prometheus of an HA pair, say), the rack is asked at most this often. */
const FRESH_FOR_MS = 10_000;
/** Below Prometheus's default scrape timeout (10 s), so a silent rack reads as down rather than failing the scrape. */
const PROBE_TIMEOUT_MS = 3_000;

/**
 * Whether the rack answers: the rack health check's own probe (its unauthenticated `GET /check`),
 * run when asked and the last answer is stale. Scrapes arriving together share one probe.
 */
@Injectable()
export class RackReachability {
  private last: { readonly up: boolean; readonly at: number } | undefined;
  private probing: Promise<boolean> | undefined;

  constructor(
    private readonly rack: RackConnection,
    private readonly clock: Clock,
  ) {}

  isUp(): Promise<boolean> {
    if (this.last && this.clock.now().getTime() - this.last.at < FRESH_FOR_MS) return Promise.resolve(this.last.up);
    this.probing ??= this.probe().finally(() => (this.probing = undefined));
    return this.probing;
  }

  private async probe(): Promise<boolean> {
    let up: boolean;
    try {
      up = (await this.rack.check(PROBE_TIMEOUT_MS)) === 200;
    } catch {
      up = false;
    }
    this.last = { up, at: this.clock.now().getTime() };
    return up;
  }
}

import { Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { RackConnection } from '../rack/rack-connection';

const RACK_CHECK_TIMEOUT_MS = 3_000;

/** The rack is reachable when its unauthenticated `GET /check` answers 200. */
@Injectable()
export class RackHealthIndicator {
  constructor(
    private readonly rack: RackConnection,
    private readonly health: HealthIndicatorService,
  ) {}

  async isReachable(key: string) {
    const indicator = this.health.check(key);
    try {
      const status = await this.rack.check(RACK_CHECK_TIMEOUT_MS);
      return status === 200 ? indicator.up() : indicator.down({ message: `rack answered ${status}` });
    } catch (error) {
      return indicator.down({ message: (error as NodeJS.ErrnoException).code ?? (error as Error).message });
    }
  }
}

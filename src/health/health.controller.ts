import { Controller, Get, Res, ServiceUnavailableException } from '@nestjs/common';
import { ApiOkResponse, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import {
  HealthCheck,
  HealthCheckResult,
  HealthCheckService,
  type HealthIndicatorFunction,
  HealthIndicatorService,
  TypeOrmHealthIndicator,
} from '@nestjs/terminus';
import type { FastifyReply } from 'fastify';
import { Public } from '../auth/decorators/public.decorator';
import { ReadOnlyMode } from '../read-only/read-only-mode';
import { Draining } from './draining';
import { RateLimitCountersHealthIndicator } from './rate-limit-counters.health';
import { RackHealthIndicator } from './rack.health';

@ApiTags('health')
@Controller('api/v1/health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly database: TypeOrmHealthIndicator,
    private readonly rack: RackHealthIndicator,
    private readonly rateLimitCounters: RateLimitCountersHealthIndicator,
    private readonly draining: Draining,
    private readonly readOnly: ReadOnlyMode,
    private readonly indicators: HealthIndicatorService,
  ) {}

  /** The process is up and serving; load balancers restart it otherwise. */
  @Get('live')
  @Public()
  @HealthCheck()
  checkLiveness(): Promise<HealthCheckResult> {
    return this.health.check([]);
  }

  /**
   * Ready to carry traffic: not shutting down, and what this instance itself needs answers (its
   * database, and Redis with REDIS_URL). Not the rack: a rack outage would otherwise mark every instance unready at once, and a
   * load balancer would take the admin API and the audit trail down with it. Read-only mode is reported
   * (`instance.readOnly`) but leaves the instance ready: it still serves reads.
   */
  @Get('ready')
  @Public()
  @HealthCheck()
  @ApiOkResponse({ description: 'Database (and Redis, when configured) reachable; `instance.readOnly` tells whether READ_ONLY is on' })
  @ApiServiceUnavailableResponse({ description: 'Database or Redis unreachable; the body says which' })
  checkReadiness(@Res({ passthrough: true }) reply: FastifyReply): Promise<HealthCheckResult> {
    const counters = this.rateLimitCounters.check('rateLimitCounters');
    const instance = this.indicators.check('instance');
    return this.report(reply, [
      () => {
        const readOnly = this.readOnly.active;
        return this.draining.active
          ? instance.down({ message: 'shutting down: finishing requests in flight', readOnly })
          : instance.up({ readOnly });
      },
      () => this.database.pingCheck('database').withTimeout(3_000),
      ...(counters ? [() => counters] : []),
    ]);
  }

  /** Whether the rack answers: for operators and monitors, apart from readiness. */
  @Get('rack')
  @Public()
  @HealthCheck()
  @ApiOkResponse({ description: 'The rack answers its unauthenticated /check' })
  @ApiServiceUnavailableResponse({ description: 'The rack is unreachable; the body says why' })
  checkRack(@Res({ passthrough: true }) reply: FastifyReply): Promise<HealthCheckResult> {
    return this.report(reply, [() => this.rack.isReachable('rack')]);
  }

  private async report(reply: FastifyReply, checks: HealthIndicatorFunction[]): Promise<HealthCheckResult> {
    try {
      return await this.health.check(checks);
    } catch (error) {
      // Terminus reports failure as an exception carrying the full result; a probe wants that body.
      if (!(error instanceof ServiceUnavailableException)) throw error;
      reply.status(503);
      return error.getResponse() as HealthCheckResult;
    }
  }
}

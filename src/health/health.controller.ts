import { Controller, Get, Res, ServiceUnavailableException } from '@nestjs/common';
import { ApiOkResponse, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckResult, HealthCheckService, TypeOrmHealthIndicator } from '@nestjs/terminus';
import type { FastifyReply } from 'fastify';
import { Public } from '../auth/decorators/public.decorator';
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
  ) {}

  /** The process is up and serving; load balancers restart it otherwise. */
  @Get('live')
  @Public()
  @HealthCheck()
  checkLiveness(): Promise<HealthCheckResult> {
    return this.health.check([]);
  }

  /** Ready to carry traffic: its database answers, its rack is reachable, and (with REDIS_URL) Redis too. */
  @Get('ready')
  @Public()
  @HealthCheck()
  @ApiOkResponse({ description: 'Database and rack reachable' })
  @ApiServiceUnavailableResponse({ description: 'Database or rack unreachable; the body says which' })
  async checkReadiness(@Res({ passthrough: true }) reply: FastifyReply): Promise<HealthCheckResult> {
    try {
      const counters = this.rateLimitCounters.check('rateLimitCounters');
      return await this.health.check([
        () => this.database.pingCheck('database').withTimeout(3_000),
        () => this.rack.isReachable('rack'),
        ...(counters ? [() => counters] : []),
      ]);
    } catch (error) {
      // Terminus reports failure as an exception carrying the full result; a probe wants that body.
      if (!(error instanceof ServiceUnavailableException)) throw error;
      reply.status(503);
      return error.getResponse() as HealthCheckResult;
    }
  }
}

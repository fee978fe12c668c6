import { Controller, Get, Res } from '@nestjs/common';
import { ApiOkResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Registry } from 'prom-client';
import { MetricsTokenAuth } from './decorators/metrics-token-auth.decorator';

@ApiTags('metrics')
@Controller('api/v1/metrics')
export class MetricsController {
  constructor(private readonly registry: Registry) {}

  /** Prometheus scrapes this; each instance answers for itself. */
  @Get()
  @MetricsTokenAuth()
  @ApiOkResponse({
    description: 'Prometheus text format: requests, rack latency, websocket sessions, audit queue, rate-limit hits, rack up, process',
    content: { [Registry.PROMETHEUS_CONTENT_TYPE]: { schema: { type: 'string' } } },
  })
  async getMetrics(@Res({ passthrough: true }) reply: FastifyReply): Promise<string> {
    const metrics = await this.registry.metrics();
    void reply.header('content-type', this.registry.contentType);
    return metrics;
  }
}

import { UseGuards, applyDecorators } from '@nestjs/common';
import { ApiBearerAuth, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { Public } from '../../auth/decorators/public.decorator';
import { MetricsTokenGuard } from '../guards/metrics-token.guard';

/**
 * The metrics' one access rule: no gateway credential or permission (a Prometheus server is neither a
 * person nor their token), only METRICS_TOKEN when it is set.
 */
export const MetricsTokenAuth = () =>
  applyDecorators(
    Public(),
    UseGuards(MetricsTokenGuard),
    ApiBearerAuth('metrics-token'),
    ApiUnauthorizedResponse({ description: 'METRICS_TOKEN is set and the request does not carry it as a Bearer token' }),
  );

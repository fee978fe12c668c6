import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { hash, timingSafeEqual } from 'node:crypto';
import { AuthenticationFailures } from '../../auth/authentication-failures';
import type { PipelineRequest } from '../../common/pipeline-request';
import { GATEWAY_CONFIG, type GatewayConfig } from '../../config/gateway-config';
import { MetricsTokenRequiredError } from '../metrics.errors';

const BEARER = /^Bearer +(\S+) *$/i;

/**
 * With METRICS_TOKEN set, the metrics need it as a Bearer token; without, they are public like the
 * health checks. Compared as SHA-256 digests in constant time: equal lengths, and nothing about the
 * token leaks through how long a refusal takes. A wrong token counts as a refused credential of the
 * client's address, like any other.
 */
@Injectable()
export class MetricsTokenGuard implements CanActivate {
  private readonly expected: Buffer | undefined;

  constructor(
    @Inject(GATEWAY_CONFIG) config: GatewayConfig,
    private readonly failures: AuthenticationFailures,
  ) {
    const token = config.operations.metricsToken;
    this.expected = token === undefined ? undefined : digest(token);
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (!this.expected) return true;
    const request = context.switchToHttp().getRequest<PipelineRequest>();
    const authorization = request.headers.authorization;
    const presented = authorization === undefined ? undefined : BEARER.exec(authorization)?.[1];
    if (presented !== undefined && timingSafeEqual(digest(presented), this.expected)) return true;
    if (authorization !== undefined) await this.failures.report(request);
    throw new MetricsTokenRequiredError();
  }
}

function digest(token: string): Buffer {
  return hash('sha256', token, 'buffer');
}

import { Module } from '@nestjs/common';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { AuditChainModule } from '../audit/audit-chain.module';
import { AuditModule } from '../audit/audit.module';
import { AuthModule } from '../auth/auth.module';
import { ProxyModule } from '../proxy/proxy.module';
import { RackModule } from '../rack/rack.module';
import { RateLimitModule } from '../rate-limit/rate-limit.module';
import { ReadOnlyModule } from '../read-only/read-only.module';
import { GatewayStateMetrics } from './gateway-state-metrics';
import { MetricsTokenGuard } from './guards/metrics-token.guard';
import { MetricsController } from './metrics.controller';
import { RackReachability } from './rack-reachability';
import { ReconciliationMetrics } from './reconciliation-metrics';
import { RequestMetrics } from './request-metrics';

/**
 * Prometheus metrics at /api/v1/metrics, on prom-client. A registry of the application's own, not
 * prom-client's process-wide one (which @willsoto/nestjs-prometheus uses): several gateways in one
 * process (the test suites) would otherwise register each metric twice.
 */
@Module({
  imports: [AuthModule, ProxyModule, AuditChainModule, AuditModule, RackModule, RateLimitModule, ReadOnlyModule],
  controllers: [MetricsController],
  providers: [
    {
      provide: Registry,
      useFactory: () => {
        const registry = new Registry();
        collectDefaultMetrics({ register: registry });
        return registry;
      },
    },
    RequestMetrics,
    GatewayStateMetrics,
    ReconciliationMetrics,
    RackReachability,
    MetricsTokenGuard,
  ],
})
export class MetricsModule {}

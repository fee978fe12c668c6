import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Registry } from 'prom-client';
import { RackReconciliation } from '../audit/rack-reconciliation.service';

/** Builds and releases made with the rack's credential behind the gateway's back, read from the reconciliation when scraped. */
@Injectable()
export class ReconciliationMetrics {
  constructor(registry: Registry, reconciliation: RackReconciliation) {
    new Counter({
      name: 'rack_gateway_rack_direct_access_total',
      help: 'Builds and releases this instance found at the rack that no audited request through the gateway created, by kind.',
      labelNames: ['kind'],
      registers: [registry],
      collect() {
        this.reset();
        for (const kind of ['build', 'release'] as const) this.inc({ kind }, reconciliation.flagged(kind));
      },
    });
    new Gauge({
      name: 'rack_gateway_reconciled_timestamp_seconds',
      help: 'When this instance last completed a reconciliation with the rack (Unix time); 0 before its first.',
      registers: [registry],
      collect() {
        this.set((reconciliation.lastCompletedAt?.getTime() ?? 0) / 1000);
      },
    });
  }
}

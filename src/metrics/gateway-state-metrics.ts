import { Injectable } from '@nestjs/common';
import { Gauge, Registry } from 'prom-client';
import { AuditTrail } from '../audit/audit-trail.service';
import { RackExchanges } from '../proxy/rack-exchanges.service';
import { ReadOnlyMode } from '../read-only/read-only-mode';
import { RackReachability } from './rack-reachability';

/** What the gateway's state is now, read when scraped: nothing is kept up to date between scrapes. */
@Injectable()
export class GatewayStateMetrics {
  constructor(registry: Registry, exchanges: RackExchanges, trail: AuditTrail, readOnly: ReadOnlyMode, rack: RackReachability) {
    new Gauge({
      name: 'rack_gateway_websocket_sessions_open',
      help: 'Websocket sessions with the rack open now (exec, logs, proxy, console...).',
      registers: [registry],
      collect() {
        this.set(exchanges.openWebsockets);
      },
    });
    new Gauge({
      name: 'rack_gateway_audit_queue_depth',
      help: 'Audit events waiting to be written; at 20000 new requests are refused.',
      registers: [registry],
      collect() {
        this.set(trail.queued);
      },
    });
    new Gauge({
      name: 'rack_gateway_audit_spooled_events',
      help: 'Audit events the database could not take, kept in the local spool (AUDIT_SPOOL_DIR) until it can.',
      registers: [registry],
      collect() {
        this.set(trail.spooled);
      },
    });
    new Gauge({
      name: 'rack_gateway_read_only',
      help: '1 while read-only mode refuses changes to the rack.',
      registers: [registry],
      collect() {
        this.set(readOnly.active ? 1 : 0);
      },
    });
    new Gauge({
      name: 'rack_gateway_rack_up',
      help: 'Whether the rack answered its health check (GET /check), probed at most every 10 s.',
      registers: [registry],
      async collect() {
        this.set((await rack.isUp()) ? 1 : 0);
      },
    });
  }
}

import { Inject, Injectable } from '@nestjs/common';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config';

/**
 * Whether this gateway refuses changes to the rack: set by READ_ONLY for incidents, rack upgrades and
 * migrations, when people should still see what runs (apps, logs) but nothing may change.
 */
@Injectable()
export class ReadOnlyMode {
  private readonly on: boolean;

  constructor(@Inject(GATEWAY_CONFIG) config: GatewayConfig) {
    this.on = config.operations.readOnly;
  }

  get active(): boolean {
    return this.on;
  }
}

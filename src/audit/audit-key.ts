import { Inject, Injectable } from '@nestjs/common';
import { hkdfSync } from 'node:crypto';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config';

/** The chain's HMAC key: AUDIT_HMAC_KEY, or one derived from APP_SECRET_KEY for this purpose alone. */
@Injectable()
export class AuditKey {
  readonly value: Buffer;

  constructor(@Inject(GATEWAY_CONFIG) config: GatewayConfig) {
    this.value = Buffer.from(hkdfSync('sha256', config.audit.hmacKey ?? config.sessions.secret, '', 'rgw audit chain', 32));
  }
}

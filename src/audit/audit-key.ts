import { Inject, Injectable } from '@nestjs/common';
import { hkdfSync } from 'node:crypto';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config';

/** The chain's HMAC key from AUDIT_HMAC_KEY, or APP_SECRET_KEY, derived for this purpose alone. */
export function deriveAuditKey(secret: string): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, '', 'rgw audit chain', 32));
}

@Injectable()
export class AuditKey {
  readonly value: Buffer;

  constructor(@Inject(GATEWAY_CONFIG) config: GatewayConfig) {
    this.value = deriveAuditKey(config.audit.hmacKey ?? config.sessions.secret);
  }
}

import { Inject, Injectable } from '@nestjs/common';
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { GATEWAY_CONFIG, GatewayConfig } from '../config/gateway-config';

const SEAL_VERSION = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * The MFA module's keys, each derived from APP_SECRET_KEY with HKDF for one purpose: sealing TOTP
 * secrets (AES-256-GCM) and keying backup-code hashes (HMAC-SHA256). A database dump alone yields
 * neither a TOTP secret nor a usable backup code.
 */
@Injectable()
export class MfaKeys {
  private readonly totpSealKey: Buffer;
  private readonly backupCodeKey: Buffer;

  constructor(@Inject(GATEWAY_CONFIG) config: GatewayConfig) {
    this.totpSealKey = derive(config.sessions.secret, 'rgw mfa totp secret seal');
    this.backupCodeKey = derive(config.sessions.secret, 'rgw mfa backup code hash');
  }

  /** Seals a TOTP secret to its method: `boundTo` (the method id) is authenticated, so a sealed secret moved to another row fails to open. */
  sealTotpSecret(secret: Buffer, boundTo: string): Buffer {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.totpSealKey, iv);
    cipher.setAAD(Buffer.from(boundTo));
    const ciphertext = Buffer.concat([cipher.update(secret), cipher.final()]);
    return Buffer.concat([Buffer.of(SEAL_VERSION), iv, cipher.getAuthTag(), ciphertext]);
  }

  openTotpSecret(sealed: Buffer, boundTo: string): Buffer {
    if (sealed[0] !== SEAL_VERSION) throw new Error('unknown TOTP seal version');
    const iv = sealed.subarray(1, 1 + IV_BYTES);
    const tag = sealed.subarray(1 + IV_BYTES, 1 + IV_BYTES + TAG_BYTES);
    const decipher = createDecipheriv('aes-256-gcm', this.totpSealKey, iv);
    decipher.setAAD(Buffer.from(boundTo));
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(sealed.subarray(1 + IV_BYTES + TAG_BYTES)), decipher.final()]);
  }

  /** A backup code's stored form, keyed and bound to its user. */
  hashBackupCode(userId: string, code: string): string {
    return createHmac('sha256', this.backupCodeKey).update(`${userId}:${code}`).digest('hex');
  }
}

function derive(secret: string, purpose: string): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, '', purpose, 32));
}

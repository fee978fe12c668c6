import { createHmac } from 'node:crypto';

/**
 * An authenticator app, written from RFC 6238 and RFC 4226 with node:crypto rather than with the
 * gateway's TOTP library, so the tests check the gateway against the standard, not against itself.
 */
export class AuthenticatorApp {
  private readonly secret: Buffer;

  /** From the otpauth:// URI a person would scan. */
  constructor(otpauthUri: string) {
    const url = new URL(otpauthUri);
    if (url.protocol !== 'otpauth:' || url.host !== 'totp') throw new Error(`not a TOTP URI: ${otpauthUri}`);
    if ((url.searchParams.get('algorithm') ?? 'SHA1') !== 'SHA1') throw new Error('expected SHA1');
    if ((url.searchParams.get('digits') ?? '6') !== '6' || (url.searchParams.get('period') ?? '30') !== '30')
      throw new Error('expected 6 digits every 30 s');
    this.secret = decodeBase32(url.searchParams.get('secret') ?? '');
  }

  /** The raw secret in hex, to look for in places it must never be. */
  get secretHex(): string {
    return this.secret.toString('hex');
  }

  /** The code shown at `at` (epoch ms); `stepOffset` moves to the neighbouring 30-second step. */
  codeAt(at: number, stepOffset = 0): string {
    const counter = Math.floor(at / 1000 / 30) + stepOffset;
    const message = Buffer.alloc(8);
    message.writeBigUInt64BE(BigInt(counter));
    const digest = createHmac('sha1', this.secret).update(message).digest();
    const offset = digest[digest.length - 1] & 0x0f;
    const binary = digest.readUInt32BE(offset) & 0x7fffffff;
    return String(binary % 1_000_000).padStart(6, '0');
  }
}

function decodeBase32(text: string): Buffer {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  const bytes: number[] = [];
  for (const char of text.replace(/=+$/, '').toUpperCase()) {
    const index = alphabet.indexOf(char);
    if (index < 0) throw new Error(`bad base32 character ${char}`);
    value = (value << 5) | index;
    bits += 5;
    if (bits >= 8) {
      bytes.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(bytes);
}

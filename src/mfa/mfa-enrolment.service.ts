import { BadRequestException, Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { RegistrationResponseJSON } from '@simplewebauthn/server';
import { randomBytes, randomUUID } from 'node:crypto';
import { toString as qrCodeSvg } from 'qrcode';
import { IsNull, Not, Repository } from 'typeorm';
import { Clock } from '../common/clock';
import type { UserEntity } from '../users/user.entity';
import { UsersService } from '../users/users.service';
import { MfaEvents } from './mfa-events';
import { MfaKeys } from './mfa-keys';
import { MfaMethodEntity } from './mfa-method.entity';
import { MfaBackupCodeEntity } from './mfa-records.entity';
import { MfaMethodNotFoundError } from './mfa.errors';
import { SecondFactors } from './second-factors.service';
import { newTotpSecret, totpSecretBase32, totpUri } from './totp';
import { WebAuthnCeremonies } from './webauthn-ceremonies';

const BACKUP_CODE_COUNT = 10;
const ISSUER = 'Rack Gateway';

export interface StartedTotpEnrolment {
  readonly id: string;
  /** Base32, for typing into an app by hand. */
  readonly secret: string;
  readonly otpauthUri: string;
  /** The URI as a QR code, an SVG data URL. */
  readonly qrCode: string;
}

/** Adding, confirming, renaming and removing a person's second factors, and their backup codes. */
@Injectable()
export class MfaEnrolment {
  constructor(
    @InjectRepository(MfaMethodEntity) private readonly methods: Repository<MfaMethodEntity>,
    @InjectRepository(MfaBackupCodeEntity) private readonly backupCodes: Repository<MfaBackupCodeEntity>,
    private readonly keys: MfaKeys,
    private readonly secondFactors: SecondFactors,
    private readonly webauthn: WebAuthnCeremonies,
    private readonly users: UsersService,
    private readonly events: MfaEvents,
    private readonly clock: Clock,
  ) {}

  /** A new, unconfirmed TOTP method; an earlier unconfirmed one is dropped (only the last QR code shown works). */
  async startTotp(user: UserEntity, label: string): Promise<StartedTotpEnrolment> {
    await this.methods.delete({ userId: user.id, kind: 'totp', confirmedAt: IsNull() });
    const id = randomUUID();
    const secret = newTotpSecret();
    await this.methods.insert({ id, userId: user.id, kind: 'totp', label, totpSecret: this.keys.sealTotpSecret(secret, id) });
    return this.present(user, id, secret);
  }

  /** A pending TOTP method shown again (a mistyped code), with its secret: the app already scanned it. */
  async resumeTotp(user: UserEntity, id: string): Promise<StartedTotpEnrolment> {
    const method = await this.pendingTotp(user.id, id);
    return this.present(user, id, this.keys.openTotpSecret(method.totpSecret as Buffer, id));
  }

  /**
   * Activates a TOTP method once the person shows a code from it. Their first method also gives them
   * backup codes, returned this once; null when they had a method already (regenerate for new ones).
   */
  async confirmTotp(user: UserEntity, id: string, code: string): Promise<{ backupCodes: string[] | null }> {
    const method = await this.pendingTotp(user.id, id);
    const refusal = await this.secondFactors.spendTotpCode(user.id, this.keys.openTotpSecret(method.totpSecret as Buffer, id), code);
    if (refusal)
      throw new BadRequestException({ code: 'invalid_code', message: `the code does not confirm this authenticator: ${refusal}` });
    await this.methods.update({ id }, { confirmedAt: this.clock.now(), lastUsedAt: this.clock.now() });
    return this.afterMethodAdded(user, 'totp');
  }

  async registerWebAuthn(
    user: UserEntity,
    challengeId: string,
    response: RegistrationResponseJSON,
    label: string,
  ): Promise<{ method: MfaMethodEntity; backupCodes: string[] | null }> {
    const method = await this.webauthn.register(user, challengeId, response, label);
    return { method, ...(await this.afterMethodAdded(user, 'webauthn')) };
  }

  listMethods(userId: string): Promise<MfaMethodEntity[]> {
    return this.methods.find({ where: { userId, confirmedAt: Not(IsNull()) }, order: { createdAt: 'ASC' } });
  }

  async rename(userId: string, id: string, label: string): Promise<MfaMethodEntity> {
    const result = await this.methods.update({ id, userId, confirmedAt: Not(IsNull()) }, { label });
    if (!result.affected) throw new MfaMethodNotFoundError(id);
    return this.methods.findOneByOrFail({ id });
  }

  /** Removes a method; removing the last one ends the enrolment, with its backup codes. */
  async remove(user: UserEntity, id: string): Promise<void> {
    const method = await this.methods.findOneBy({ id, userId: user.id });
    if (!method) throw new MfaMethodNotFoundError(id);
    await this.methods.delete({ id });
    this.events.publish({ kind: 'mfa.method-removed', userEmail: user.email, method: method.kind });
    if ((await this.listMethods(user.id)).length > 0) return;
    await this.backupCodes.delete({ userId: user.id });
    await this.users.setMfaEnrolled(user.id, null);
  }

  /** Ten new single-use codes, replacing every earlier one; shown this once and stored only as keyed hashes. */
  async regenerateBackupCodes(user: UserEntity): Promise<string[]> {
    const codes = Array.from({ length: BACKUP_CODE_COUNT }, () => formatBackupCode(randomBytes(6).toString('hex').toUpperCase()));
    await this.backupCodes.manager.transaction(async (transaction) => {
      await transaction.delete(MfaBackupCodeEntity, { userId: user.id });
      await transaction.insert(
        MfaBackupCodeEntity,
        codes.map((code) => ({ userId: user.id, codeHash: this.keys.hashBackupCode(user.id, code.replace(/-/g, '')) })),
      );
    });
    this.events.publish({ kind: 'mfa.backup-codes-regenerated', userEmail: user.email });
    return codes;
  }

  async unusedBackupCodes(userId: string): Promise<number> {
    return this.backupCodes.countBy({ userId, usedAt: IsNull() });
  }

  private async pendingTotp(userId: string, id: string): Promise<MfaMethodEntity> {
    const method = await this.methods
      .createQueryBuilder('method')
      .addSelect('method.totpSecret')
      .where({ id, userId, kind: 'totp', confirmedAt: IsNull() })
      .getOne();
    if (!method) throw new MfaMethodNotFoundError(id);
    return method;
  }

  private async present(user: UserEntity, id: string, secret: Buffer): Promise<StartedTotpEnrolment> {
    const otpauthUri = totpUri(secret, user.email, ISSUER);
    const svg = await qrCodeSvg(otpauthUri, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
    return { id, secret: totpSecretBase32(secret), otpauthUri, qrCode: `data:image/svg+xml;base64,${Buffer.from(svg).toString('base64')}` };
  }

  private async afterMethodAdded(user: UserEntity, kind: 'totp' | 'webauthn'): Promise<{ backupCodes: string[] | null }> {
    this.events.publish({ kind: 'mfa.method-added', userEmail: user.email, method: kind });
    if (user.mfaEnrolledAt !== null) return { backupCodes: null };
    await this.users.setMfaEnrolled(user.id, this.clock.now());
    return { backupCodes: await this.regenerateBackupCodes(user) };
  }
}

function formatBackupCode(hex: string): string {
  return `${hex.slice(0, 4)}-${hex.slice(4, 8)}-${hex.slice(8, 12)}`;
}

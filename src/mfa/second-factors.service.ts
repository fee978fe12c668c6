import { Inject, Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { IsNull, MoreThan, Not, Repository } from 'typeorm';
import { AccountLockedError } from '../auth/auth.errors';
import { Clock } from '../common/clock';
import { GATEWAY_CONFIG, GatewayConfig } from '../config/gateway-config';
import type { UserEntity } from '../users/user.entity';
import { UsersService } from '../users/users.service';
import { MfaEvents } from './mfa-events';
import { MfaKeys } from './mfa-keys';
import { MfaMethodEntity } from './mfa-method.entity';
import { MfaBackupCodeEntity, MfaFailureEntity } from './mfa-records.entity';
import { InvalidSecondFactorError, TooManySecondFactorFailuresError } from './mfa.errors';
import type { SecondFactorProof } from './second-factor-proof';
import { matchingTotpStep } from './totp';
import { WebAuthnCeremonies } from './webauthn-ceremonies';

/** Failures are counted over this window, per user and per client address. */
const FAILURE_WINDOW_MS = 5 * 60_000;
/** The failure that locks the account. */
const USER_FAILURE_LIMIT = 5;
/** From one address, across accounts: someone holding many stolen tokens, trying codes on each. */
const CLIENT_FAILURE_LIMIT = 20;
/** Spent TOTP steps older than the accepted skew can never match again; kept a while for the record. */
const SPENT_STEPS_KEPT = 100;

/**
 * Checks second factors: TOTP (each time step once per user), backup codes (each once) and WebAuthn
 * assertions. Failures are recorded in the database, so every instance counts them together: five
 * within five minutes lock the account; successes never count.
 */
@Injectable()
export class SecondFactors {
  constructor(
    @InjectRepository(MfaMethodEntity) private readonly methods: Repository<MfaMethodEntity>,
    @InjectRepository(MfaBackupCodeEntity) private readonly backupCodes: Repository<MfaBackupCodeEntity>,
    @InjectRepository(MfaFailureEntity) private readonly failures: Repository<MfaFailureEntity>,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    private readonly keys: MfaKeys,
    private readonly webauthn: WebAuthnCeremonies,
    private readonly users: UsersService,
    private readonly events: MfaEvents,
    private readonly clock: Clock,
  ) {}

  /** Resolves when `proof` is a valid, unspent second factor of `user`; throws the refusal otherwise. */
  async verify(user: UserEntity, proof: SecondFactorProof, clientIp: string): Promise<void> {
    const now = this.clock.now();
    await this.assertClientMayTry(clientIp, now);
    const failure = await this.check(user, proof, now);
    if (failure === null) {
      this.events.publish({ kind: 'mfa.verified', userEmail: user.email, clientIp, method: proof.kind });
      return;
    }
    await this.recordFailure(user, proof, clientIp, failure, now);
    throw new InvalidSecondFactorError(failure);
  }

  /** Whether a TOTP code is one of `secret`'s for now, spending its step; for confirming a new method. */
  async spendTotpCode(userId: string, secret: Buffer, code: string): Promise<string | null> {
    const step = matchingTotpStep(secret, code, this.clock.now());
    if (step === null) return 'wrong code';
    return (await this.spendStep(userId, step)) ? null : 'this code was already used; wait for the next one';
  }

  /** Failures of the user in the current window, for their account page. */
  recentFailures(userId: string): Promise<number> {
    return this.failures.countBy({ userId, occurredAt: MoreThan(new Date(this.clock.now().getTime() - FAILURE_WINDOW_MS)) });
  }

  private async check(user: UserEntity, proof: SecondFactorProof, now: Date): Promise<string | null> {
    switch (proof.kind) {
      case 'totp':
        return this.checkTotp(user.id, proof.code, now);
      case 'backup-code': {
        const spent = await this.backupCodes.update(
          { userId: user.id, codeHash: this.keys.hashBackupCode(user.id, proof.code), usedAt: IsNull() },
          { usedAt: now },
        );
        return spent.affected ? null : 'unknown or already used backup code';
      }
      case 'webauthn':
        return this.webauthn.verifyAssertion(user, proof.challengeId, proof.response);
    }
  }

  private async checkTotp(userId: string, code: string, now: Date): Promise<string | null> {
    const methods = await this.methods
      .createQueryBuilder('method')
      .addSelect('method.totpSecret')
      .where({ userId, kind: 'totp', confirmedAt: Not(IsNull()) })
      .getMany();
    for (const method of methods) {
      const step = matchingTotpStep(this.keys.openTotpSecret(method.totpSecret as Buffer, method.id), code, now);
      if (step === null) continue;
      if (!(await this.spendStep(userId, step))) return 'this code was already used; wait for the next one';
      await this.methods.update({ id: method.id }, { lastUsedAt: now });
      return null;
    }
    return 'wrong code';
  }

  /** Spends a time step for the user; false when it was spent already (a replay, or a race lost). */
  private async spendStep(userId: string, step: number): Promise<boolean> {
    const inserted = await this.methods.query<unknown[]>(
      `INSERT INTO mfa_used_totp_steps (user_id, time_step) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING time_step`,
      [userId, step],
    );
    if (inserted.length === 0) return false;
    await this.methods.query(`DELETE FROM mfa_used_totp_steps WHERE user_id = $1 AND time_step < $2`, [userId, step - SPENT_STEPS_KEPT]);
    return true;
  }

  private async assertClientMayTry(clientIp: string, now: Date): Promise<void> {
    const since = new Date(now.getTime() - FAILURE_WINDOW_MS);
    const recent = await this.failures.find({
      select: { occurredAt: true },
      where: { clientIp, occurredAt: MoreThan(since) },
      order: { occurredAt: 'ASC' },
      take: CLIENT_FAILURE_LIMIT,
    });
    if (recent.length < CLIENT_FAILURE_LIMIT) return;
    const retryAfterMs = recent[0].occurredAt.getTime() + FAILURE_WINDOW_MS - now.getTime();
    throw new TooManySecondFactorFailuresError(Math.max(1, Math.ceil(retryAfterMs / 1000)));
  }

  private async recordFailure(user: UserEntity, proof: SecondFactorProof, clientIp: string, reason: string, now: Date): Promise<void> {
    await this.failures.insert({ userId: user.id, clientIp, occurredAt: now });
    this.events.publish({ kind: 'mfa.failed', userEmail: user.email, clientIp, method: proof.kind, reason });
    const recent = await this.failures.countBy({ userId: user.id, occurredAt: MoreThan(new Date(now.getTime() - FAILURE_WINDOW_MS)) });
    if (recent < USER_FAILURE_LIMIT) return;
    const until = new Date(now.getTime() + this.config.mfa.lockoutMs);
    await this.users.lock(user.id, until, `${recent} failed second-factor attempts within 5 minutes`);
    this.events.publish({
      kind: 'mfa.locked',
      userEmail: user.email,
      clientIp,
      reason: `${recent} failed attempts; locked until ${until.toISOString()}`,
    });
    throw new AccountLockedError(until);
  }
}

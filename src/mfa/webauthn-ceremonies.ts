import { Inject, Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import {
  type AuthenticationResponseJSON,
  type AuthenticatorTransport,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  type RegistrationResponseJSON,
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
} from '@simplewebauthn/server';
import { randomUUID } from 'node:crypto';
import { IsNull, Not, Repository } from 'typeorm';
import { Clock } from '../common/clock';
import { GATEWAY_CONFIG, GatewayConfig } from '../config/gateway-config';
import type { UserEntity } from '../users/user.entity';
import { MfaChallengeExpiredError, InvalidSecondFactorError } from './mfa.errors';
import { MfaMethodEntity } from './mfa-method.entity';
import { type MfaChallengePurpose, MfaChallengeEntity } from './mfa-records.entity';

/** How long a person has to touch their key. */
const CHALLENGE_TTL_MS = 5 * 60_000;
const RELYING_PARTY_NAME = 'Rack Gateway';

export interface WebAuthnChallenge<Options> {
  readonly challengeId: string;
  readonly options: Options;
}

/**
 * WebAuthn registration and assertion with @simplewebauthn/server. Challenges live in the database,
 * not with the client, and each is spent by the one response that answers it (on any instance);
 * signature counters are stored and must move forward, so a cloned key shows itself.
 */
@Injectable()
export class WebAuthnCeremonies {
  constructor(
    @InjectRepository(MfaMethodEntity) private readonly methods: Repository<MfaMethodEntity>,
    @InjectRepository(MfaChallengeEntity) private readonly challenges: Repository<MfaChallengeEntity>,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    private readonly clock: Clock,
  ) {}

  async registrationOptions(user: UserEntity): Promise<WebAuthnChallenge<PublicKeyCredentialCreationOptionsJSON>> {
    const existing = await this.credentialsOf(user.id);
    const options = await generateRegistrationOptions({
      rpName: RELYING_PARTY_NAME,
      rpID: this.config.mfa.relyingPartyId,
      userName: user.email,
      userDisplayName: user.name || user.email,
      userID: new Uint8Array(Buffer.from(user.id.replace(/-/g, ''), 'hex')),
      attestationType: 'none',
      excludeCredentials: existing.map(({ credentialId, transports }) => ({
        id: credentialId as string,
        transports: transports ?? undefined,
      })),
      authenticatorSelection: { residentKey: 'preferred', userVerification: 'preferred' },
    });
    return { challengeId: await this.storeChallenge(user.id, 'registration', options.challenge), options };
  }

  /** Verifies a new credential against its challenge and stores it, confirmed: the ceremony proved the key works. */
  async register(user: UserEntity, challengeId: string, response: RegistrationResponseJSON, label: string): Promise<MfaMethodEntity> {
    const expectedChallenge = await this.spendChallenge(user.id, challengeId, 'registration');
    const verification = await verifyRegistrationResponse({
      response,
      expectedChallenge,
      expectedOrigin: this.config.mfa.origin,
      expectedRPID: this.config.mfa.relyingPartyId,
      requireUserVerification: false,
    }).catch((error: Error) => {
      throw new InvalidSecondFactorError(`the security key's registration did not verify (${error.message})`);
    });
    if (!verification.verified) throw new InvalidSecondFactorError("the security key's registration did not verify");
    const { credential } = verification.registrationInfo;
    return this.methods.save(
      this.methods.create({
        id: randomUUID(),
        userId: user.id,
        kind: 'webauthn',
        label,
        credentialId: credential.id,
        publicKey: Buffer.from(credential.publicKey),
        signCount: credential.counter,
        transports: credential.transports ?? null,
        confirmedAt: this.clock.now(),
      }),
    );
  }

  async authenticationOptions(user: UserEntity): Promise<WebAuthnChallenge<PublicKeyCredentialRequestOptionsJSON>> {
    const credentials = await this.credentialsOf(user.id);
    const options = await generateAuthenticationOptions({
      rpID: this.config.mfa.relyingPartyId,
      allowCredentials: credentials.map(({ credentialId, transports }) => ({
        id: credentialId as string,
        transports: transports ?? undefined,
      })),
      userVerification: 'preferred',
    });
    return { challengeId: await this.storeChallenge(user.id, 'authentication', options.challenge), options };
  }

  /** Checks an assertion; answers why it fails, or null when it proves the user holds the key. */
  async verifyAssertion(user: UserEntity, challengeId: string, response: AuthenticationResponseJSON): Promise<string | null> {
    const expectedChallenge = await this.spendChallenge(user.id, challengeId, 'authentication');
    const method = await this.methods.findOneBy({
      userId: user.id,
      kind: 'webauthn',
      credentialId: response.id,
      confirmedAt: Not(IsNull()),
    });
    if (!method?.publicKey || method.signCount === null) return 'unknown security key';
    let verification;
    try {
      verification = await verifyAuthenticationResponse({
        response,
        expectedChallenge,
        expectedOrigin: this.config.mfa.origin,
        expectedRPID: this.config.mfa.relyingPartyId,
        credential: {
          id: method.credentialId as string,
          publicKey: new Uint8Array(method.publicKey),
          counter: method.signCount,
          transports: (method.transports as AuthenticatorTransport[] | null) ?? undefined,
        },
        requireUserVerification: false,
      });
    } catch (error) {
      return `the security key's assertion did not verify (${(error as Error).message})`;
    }
    if (!verification.verified) return "the security key's assertion did not verify";
    // Only from the counter this check read: two assertions racing with one counter value cannot both pass.
    const moved = await this.methods.update(
      { id: method.id, signCount: method.signCount },
      { signCount: verification.authenticationInfo.newCounter, lastUsedAt: this.clock.now() },
    );
    return moved.affected ? null : "the security key's signature counter did not advance";
  }

  private async credentialsOf(userId: string): Promise<MfaMethodEntity[]> {
    return this.methods.findBy({ userId, kind: 'webauthn', confirmedAt: Not(IsNull()) });
  }

  private async storeChallenge(userId: string, purpose: MfaChallengePurpose, challenge: string): Promise<string> {
    const now = this.clock.now();
    // Expired challenges of this user go with each new one, so the table holds only live ones.
    await this.challenges.createQueryBuilder().delete().where('user_id = :userId AND expires_at < :now', { userId, now }).execute();
    const saved = await this.challenges.save(
      this.challenges.create({ userId, purpose, challenge, expiresAt: new Date(now.getTime() + CHALLENGE_TTL_MS) }),
    );
    return saved.id;
  }

  /** Deletes the challenge as it reads it, so an answer to it is accepted once. */
  private async spendChallenge(userId: string, challengeId: string, purpose: MfaChallengePurpose): Promise<string> {
    // TypeORM answers a DELETE … RETURNING on Postgres as [rows, count].
    const [deleted] = await this.challenges.query<[Array<{ challenge: string }>, number]>(
      `DELETE FROM mfa_challenges WHERE id = $1 AND user_id = $2 AND purpose = $3 AND expires_at > $4 RETURNING challenge`,
      [challengeId, userId, purpose, this.clock.now()],
    );
    if (deleted.length === 0) throw new MfaChallengeExpiredError();
    return deleted[0].challenge;
  }
}

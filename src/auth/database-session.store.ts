import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import type { SessionStore } from '@fastify/session';
import { InjectRepository } from '@nestjs/typeorm';
import type { Session } from 'fastify';
import { createHash } from 'node:crypto';
import { EntityManager, IsNull, LessThan, Repository } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import { Clock } from '../common/clock';
import { GATEWAY_CONFIG, GatewayConfig } from '../config/gateway-config';
import { UsersService } from '../users/users.service';
import { SessionEntity } from './session.entity';

type Callback = (error?: Error | null) => void;
type SessionData = Record<string, unknown>;

/** A session that has not signed in yet (it only carries OAuth state) lives this long. */
const ANONYMOUS_SESSION_MS = 10 * 60_000;
/** Expired rows are refused on read anyway; this only keeps the table small. Idempotent across instances. */
const EXPIRED_SWEEP_INTERVAL_MS = 15 * 60_000;

export const SESSION_USER_KEY = 'userId';
/**
 * Read from their own columns into the session as it loads, never written back from it: only the MFA
 * module sets them (markSecondFactor), so a request that loaded the session earlier cannot undo them.
 */
export const SESSION_SECOND_FACTOR_KEY = 'secondFactorAt';
export const SESSION_STEP_UP_KEY = 'stepUpUntil';

function hashSessionId(sessionId: string): string {
  return createHash('sha256').update(sessionId).digest('hex');
}

/**
 * Session persistence for @fastify/session in the gateway's own database, so every instance behind a
 * load balancer shares sessions and a restart keeps them. Only the id's hash is stored. Sessions end
 * after an idle period and, regardless of activity, at an absolute lifetime counted from sign-in.
 *
 * A signed-in session is only ever created by signing in an anonymous one (the row regenerate()
 * stored); saving it never inserts. So a request that loaded a session before it was revoked (its
 * user disabled, logout) cannot write it back when it finishes.
 */
@Injectable()
export class DatabaseSessionStore implements SessionStore, OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(DatabaseSessionStore.name);
  private sweepTimer: NodeJS.Timeout | undefined;

  constructor(
    @InjectRepository(SessionEntity) private readonly sessions: Repository<SessionEntity>,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    private readonly clock: Clock,
    users: UsersService,
  ) {
    // A disabled user's sessions end with the disabling, in its transaction: re-enabling them later
    // must not bring those back, and the disabling does not return while one is left.
    users.onDisable((userId, transaction) => this.destroyAllForUser(userId, transaction));
  }

  onApplicationBootstrap(): void {
    this.sweepTimer = setInterval(() => {
      this.removeExpired().catch((error: Error) => this.logger.warn(`could not remove expired sessions: ${error.message}`));
    }, EXPIRED_SWEEP_INTERVAL_MS).unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.sweepTimer);
  }

  set(sessionId: string, session: Session, callback: Callback): void {
    this.save(sessionId, session as unknown as SessionData).then(() => callback(), callback);
  }

  get(sessionId: string, callback: (error: Error | null, session?: Session | null) => void): void {
    this.load(sessionId).then((session) => callback(null, session as Session | null), callback);
  }

  destroy(sessionId: string, callback: Callback): void {
    this.sessions.delete({ idHash: hashSessionId(sessionId) }).then(() => callback(), callback);
  }

  /** Records a passed second factor on a signed-in session, and opens its step-up window. */
  async markSecondFactor(sessionId: string, at: Date, stepUpUntil: Date): Promise<void> {
    await this.sessions.update({ idHash: hashSessionId(sessionId) }, { secondFactorAt: at, stepUpUntil });
  }

  /** Ends every session a user holds, as part of the caller's transaction. */
  private async destroyAllForUser(userId: string, transaction: EntityManager): Promise<void> {
    await transaction.delete(SessionEntity, { userId });
  }

  async removeExpired(now = this.clock.now()): Promise<void> {
    await this.sessions.delete({ expiresAt: LessThan(now) });
    await this.sessions.delete({ idleExpiresAt: LessThan(now) });
  }

  private async save(sessionId: string, session: SessionData): Promise<void> {
    const now = this.clock.now().getTime();
    const idHash = hashSessionId(sessionId);
    const userId = typeof session[SESSION_USER_KEY] === 'string' ? session[SESSION_USER_KEY] : null;
    const data = JSON.parse(JSON.stringify(session)) as Record<string, unknown>;
    delete data[SESSION_SECOND_FACTOR_KEY];
    delete data[SESSION_STEP_UP_KEY];
    if (userId === null) {
      const row: Partial<SessionEntity> = {
        idHash,
        userId,
        data,
        idleExpiresAt: new Date(now + ANONYMOUS_SESSION_MS),
        expiresAt: new Date(now + ANONYMOUS_SESSION_MS),
      };
      await this.sessions
        .createQueryBuilder()
        .insert()
        .values(row as QueryDeepPartialEntity<SessionEntity>)
        .orUpdate(['data', 'idle_expires_at'], ['id_hash'], { overwriteCondition: { where: { userId: IsNull() } } })
        .execute();
      return;
    }
    await this.sessions
      .createQueryBuilder()
      .update()
      .set({
        userId,
        data,
        idleExpiresAt: new Date(now + this.config.sessions.idleMs),
        // Fixed when the row first gets its user (sign-in); activity only ever moves the idle expiry.
        expiresAt: () => 'CASE WHEN user_id IS NULL THEN CAST(:signedInUntil AS timestamptz) ELSE expires_at END',
      } as QueryDeepPartialEntity<SessionEntity>)
      .where('id_hash = :idHash AND (user_id IS NULL OR user_id = :userId)', {
        idHash,
        userId,
        signedInUntil: new Date(now + this.config.sessions.maxAgeMs),
      })
      .execute();
  }

  private async load(sessionId: string): Promise<SessionData | null> {
    const session = await this.sessions.findOneBy({ idHash: hashSessionId(sessionId) });
    if (!session) return null;
    const now = this.clock.now();
    if (session.expiresAt <= now || session.idleExpiresAt <= now) {
      await this.sessions.delete({ idHash: session.idHash });
      return null;
    }
    return {
      ...session.data,
      [SESSION_SECOND_FACTOR_KEY]: session.secondFactorAt?.getTime() ?? null,
      [SESSION_STEP_UP_KEY]: session.stepUpUntil?.getTime() ?? null,
    };
  }
}

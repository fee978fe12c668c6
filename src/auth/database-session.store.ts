import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import type { SessionStore } from '@fastify/session';
import { InjectRepository } from '@nestjs/typeorm';
import type { Session } from 'fastify';
import { createHash } from 'node:crypto';
import { LessThan, Repository } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import { GATEWAY_CONFIG, GatewayConfig } from '../config/gateway-config';
import { AccessChanges } from '../users/access-changes.service';
import { SessionEntity } from './session.entity';

type Callback = (error?: Error | null) => void;
type SessionData = Record<string, unknown>;

/** A session that has not signed in yet (it only carries OAuth state) lives this long. */
const ANONYMOUS_SESSION_MS = 10 * 60_000;
/** Expired rows are refused on read anyway; this only keeps the table small. Idempotent across instances. */
const EXPIRED_SWEEP_INTERVAL_MS = 15 * 60_000;

export const SESSION_USER_KEY = 'userId';

function hashSessionId(sessionId: string): string {
  return createHash('sha256').update(sessionId).digest('hex');
}

/**
 * Session persistence for @fastify/session in the gateway's own database, so every instance behind a
 * load balancer shares sessions and a restart keeps them. Only the id's hash is stored. Sessions end
 * after an idle period and, regardless of activity, at an absolute lifetime.
 */
@Injectable()
export class DatabaseSessionStore implements SessionStore, OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(DatabaseSessionStore.name);
  private sweepTimer: NodeJS.Timeout | undefined;

  constructor(
    @InjectRepository(SessionEntity) private readonly sessions: Repository<SessionEntity>,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    accessChanges: AccessChanges,
  ) {
    // A disabled user's sessions end for good: re-enabling them later must not bring those back.
    accessChanges.onChange((change) => {
      if (!('userId' in change) || !change.sessionsEnded) return;
      this.destroyAllForUser(change.userId).catch((error: Error) => this.logger.warn(`could not end sessions: ${error.message}`));
    });
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

  /** Ends every session a user holds. */
  private async destroyAllForUser(userId: string): Promise<void> {
    await this.sessions.delete({ userId });
  }

  async removeExpired(now = new Date()): Promise<void> {
    await this.sessions.delete({ expiresAt: LessThan(now) });
    await this.sessions.delete({ idleExpiresAt: LessThan(now) });
  }

  private async save(sessionId: string, session: SessionData): Promise<void> {
    const now = Date.now();
    const userId = typeof session[SESSION_USER_KEY] === 'string' ? session[SESSION_USER_KEY] : null;
    const idle = userId ? this.config.sessions.idleMs : ANONYMOUS_SESSION_MS;
    const lifetime = userId ? this.config.sessions.maxAgeMs : ANONYMOUS_SESSION_MS;
    const data = JSON.parse(JSON.stringify(session)) as Record<string, unknown>;
    // The absolute expiry is fixed when the session is first stored; later saves only move the idle one.
    const row: Partial<SessionEntity> = {
      idHash: hashSessionId(sessionId),
      userId,
      data,
      idleExpiresAt: new Date(now + idle),
      expiresAt: new Date(now + lifetime),
    };
    await this.sessions
      .createQueryBuilder()
      .insert()
      .values(row as QueryDeepPartialEntity<SessionEntity>)
      .orUpdate(['user_id', 'data', 'idle_expires_at'], ['id_hash'])
      .execute();
  }

  private async load(sessionId: string): Promise<SessionData | null> {
    const session = await this.sessions.findOneBy({ idHash: hashSessionId(sessionId) });
    if (!session) return null;
    const now = new Date();
    if (session.expiresAt <= now || session.idleExpiresAt <= now) {
      await this.sessions.delete({ idHash: session.idHash });
      return null;
    }
    return session.data;
  }
}

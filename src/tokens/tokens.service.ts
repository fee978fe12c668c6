import { Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { IsNull, Repository } from 'typeorm';
import type { RoleBinding } from '../rbac/principal-ability';
import type { Role } from '../rbac/roles';
import type { UserEntity } from '../users/user.entity';
import { type AccessChange, AccessChanges } from '../users/access-changes.service';
import { UsersService } from '../users/users.service';
import { ApiTokenEntity } from './api-token.entity';
import { generateTokenSecret, hashTokenSecret, looksLikeTokenSecret } from './token-secret';
import { TokenNotFoundError } from './tokens.errors';

export interface AuthenticatedToken {
  readonly tokenId: string;
  readonly user: UserEntity;
  /** The token's own narrowing of its owner's access, if any. */
  readonly scope: RoleBinding | null;
  /** The token's step-up window (epoch ms), opened when its owner verifies a second factor with it. */
  readonly stepUpUntil: number | null;
}

export interface NewToken {
  readonly name: string;
  readonly expiresAt: Date | null;
  readonly role?: Role | null;
  readonly appScopes?: string[] | null;
}

/** last_used_at is a hint for people, not an audit record: write it at most this often per token. */
const LAST_USED_WRITE_INTERVAL_MS = 60_000;
/** A safety net only: changes reach the cache through AccessChanges at once. */
const CACHE_TTL_MS = 60_000;
const CACHE_MAX_ENTRIES = 10_000;

interface CachedToken {
  readonly result: AuthenticatedToken;
  readonly expiresAt: number | null;
  readonly cachedAt: number;
  /** When this instance last wrote (or the database last held) last_used_at: bounded by the cache. */
  lastUsedAt: number;
}

@Injectable()
export class TokensService {
  private readonly logger = new Logger(TokensService.name);
  /** Live tokens by hash, so a proxied request costs no database round trip. */
  private readonly cache = new Map<string, CachedToken>();
  /** Bumped by every access change: a lookup that raced a change is not cached. */
  private generation = 0;

  constructor(
    @InjectRepository(ApiTokenEntity) private readonly tokens: Repository<ApiTokenEntity>,
    private readonly users: UsersService,
    private readonly accessChanges: AccessChanges,
  ) {
    accessChanges.onChange((change) => this.forget(change));
  }

  async create(
    user: UserEntity,
    { name, expiresAt, role = null, appScopes = null }: NewToken,
  ): Promise<{ token: ApiTokenEntity; secret: string }> {
    const secret = generateTokenSecret();
    const token = await this.tokens.save(
      this.tokens.create({
        userId: user.id,
        name,
        tokenHash: hashTokenSecret(secret),
        displayPrefix: secret.slice(0, 12),
        expiresAt,
        role,
        appScopes,
      }),
    );
    return { token, secret };
  }

  listForUser(userId: string): Promise<ApiTokenEntity[]> {
    return this.tokens.find({ where: { userId, revokedAt: IsNull() }, order: { createdAt: 'DESC' } });
  }

  /** The owner of a live (unrevoked) token, or null when there is none with that id. */
  async findOwnerId(tokenId: string): Promise<string | null> {
    const token = await this.tokens.findOne({ select: { userId: true }, where: { id: tokenId, revokedAt: IsNull() } });
    return token?.userId ?? null;
  }

  /** A live token by id, as authentication would resolve it (unrevoked, unexpired, its owner enabled), or null. */
  async findLive(tokenId: string, now = new Date()): Promise<AuthenticatedToken | null> {
    const token = await this.tokens.findOneBy({ id: tokenId });
    if (!token || token.revokedAt || (token.expiresAt && token.expiresAt <= now)) return null;
    const user = await this.users.findById(token.userId);
    return user && !user.disabled ? authenticated(token, user) : null;
  }

  /** Opens the token's step-up window; every instance re-reads the token before its next request. */
  async openStepUp(tokenId: string, until: Date): Promise<void> {
    await this.tokens.update({ id: tokenId }, { stepUpUntil: until });
    await this.accessChanges.announce({ tokenId });
  }

  async revoke(tokenId: string): Promise<void> {
    const result = await this.tokens.update({ id: tokenId, revokedAt: IsNull() }, { revokedAt: new Date() });
    if (!result.affected) throw new TokenNotFoundError(tokenId);
    await this.accessChanges.announce({ tokenId });
  }

  /**
   * Resolves a presented secret to its live token and enabled owner, or null. The lookup by hash is the
   * only comparison: the secret never reaches the database, and what the index's timing could reveal
   * (how much of a stored hash matches the hash of a guess) does not help anyone choose the next guess.
   * A cache hit costs no query; a miss costs two: the token, then its owner through UsersService.
   */
  async authenticate(secret: string, now = new Date()): Promise<AuthenticatedToken | null> {
    if (!looksLikeTokenSecret(secret)) return null;
    const tokenHash = hashTokenSecret(secret);
    const cached = this.cache.get(tokenHash);
    if (
      cached &&
      this.accessChanges.isSynchronised &&
      now.getTime() - cached.cachedAt < CACHE_TTL_MS &&
      (cached.expiresAt === null || cached.expiresAt > now.getTime())
    ) {
      if (this.lastUseIsStale(cached.lastUsedAt, now)) cached.lastUsedAt = this.recordUse(cached.result.tokenId, now);
      return cached.result;
    }
    const generation = this.generation;
    const token = await this.tokens.findOneBy({ tokenHash });
    if (!token || token.revokedAt) return null;
    if (token.expiresAt && token.expiresAt <= now) return null;
    const user = await this.users.findById(token.userId);
    if (!user || user.disabled) return null;
    // The cached entry may know of a write the database has not finished yet.
    let lastUsedAt = Math.max(token.lastUsedAt?.getTime() ?? 0, cached?.lastUsedAt ?? 0);
    if (this.lastUseIsStale(lastUsedAt, now)) lastUsedAt = this.recordUse(token.id, now);
    const result = authenticated(token, user);
    if (generation === this.generation) this.remember(tokenHash, result, token.expiresAt, lastUsedAt, now);
    return result;
  }

  private remember(tokenHash: string, result: AuthenticatedToken, expiresAt: Date | null, lastUsedAt: number, now: Date): void {
    if (this.cache.size >= CACHE_MAX_ENTRIES) this.cache.delete(this.cache.keys().next().value as string);
    this.cache.set(tokenHash, { result, expiresAt: expiresAt?.getTime() ?? null, cachedAt: now.getTime(), lastUsedAt });
  }

  private forget(change: AccessChange): void {
    this.generation += 1;
    if ('userId' in change && change.userId === '*') {
      this.cache.clear();
      return;
    }
    for (const [tokenHash, { result }] of this.cache) {
      if ('userId' in change ? result.user.id === change.userId : result.tokenId === change.tokenId) this.cache.delete(tokenHash);
    }
  }

  private lastUseIsStale(lastUsedAt: number, now: Date): boolean {
    return now.getTime() - lastUsedAt >= LAST_USED_WRITE_INTERVAL_MS;
  }

  /** Writes last_used_at off the request path; returns the time written. */
  private recordUse(tokenId: string, now: Date): number {
    this.tokens.update({ id: tokenId }, { lastUsedAt: now }).catch((error: Error) => {
      this.logger.warn(`Could not record token use: ${error.message}`);
    });
    return now.getTime();
  }
}

function authenticated(token: ApiTokenEntity, user: UserEntity): AuthenticatedToken {
  const scope = token.role || token.appScopes ? { role: token.role ?? user.role, appScopes: token.appScopes } : null;
  return { tokenId: token.id, user, scope, stepUpUntil: token.stepUpUntil?.getTime() ?? null };
}

import { Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { IsNull, Repository } from 'typeorm';
import type { RoleBinding } from '../rbac/principal-ability';
import type { Role } from '../rbac/roles';
import type { UserEntity } from '../users/user.entity';
import { type AccessChange, AccessChanges } from '../users/access-changes.service';
import { ApiTokenEntity } from './api-token.entity';
import { digestsEqual, generateTokenSecret, hashTokenSecret, looksLikeTokenSecret } from './token-secret';
import { TokenNotFoundError } from './tokens.errors';

export interface AuthenticatedToken {
  readonly tokenId: string;
  readonly user: UserEntity;
  /** The token's own narrowing of its owner's access, if any. */
  readonly scope: RoleBinding | null;
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
}

@Injectable()
export class TokensService {
  private readonly logger = new Logger(TokensService.name);
  private readonly lastUsedWrites = new Map<string, number>();
  /** Live tokens by hash, so a proxied request costs no database round trip. */
  private readonly cache = new Map<string, CachedToken>();
  /** Bumped by every access change: a lookup that raced a change is not cached. */
  private generation = 0;

  constructor(
    @InjectRepository(ApiTokenEntity) private readonly tokens: Repository<ApiTokenEntity>,
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

  /** Revokes a token; with `ownerId`, only if that user owns it (otherwise it is not found). */
  async revoke(tokenId: string, ownerId?: string): Promise<void> {
    const result = await this.tokens.update(
      { id: tokenId, revokedAt: IsNull(), ...(ownerId ? { userId: ownerId } : {}) },
      { revokedAt: new Date() },
    );
    if (!result.affected) throw new TokenNotFoundError(tokenId);
    await this.accessChanges.announce({ tokenId });
  }

  /**
   * Resolves a presented secret to its live token and enabled owner, or null. Looking up by hash keeps
   * the secret out of the database; the digest comparison after the lookup is constant-time.
   */
  async authenticate(secret: string, now = new Date()): Promise<AuthenticatedToken | null> {
    if (!looksLikeTokenSecret(secret)) return null;
    const tokenHash = hashTokenSecret(secret);
    const cached = this.accessChanges.isSynchronised ? this.cache.get(tokenHash) : undefined;
    if (cached && now.getTime() - cached.cachedAt < CACHE_TTL_MS && (cached.expiresAt === null || cached.expiresAt > now.getTime())) {
      this.recordUse(cached.result.tokenId, now);
      return cached.result;
    }
    const generation = this.generation;
    const token = await this.tokens
      .createQueryBuilder('token')
      .addSelect('token.tokenHash')
      .innerJoinAndSelect('token.user', 'user')
      .where('token.tokenHash = :tokenHash', { tokenHash })
      .getOne();
    if (!token?.user || !digestsEqual(token.tokenHash, tokenHash)) return null;
    if (token.revokedAt || token.user.disabled) return null;
    if (token.expiresAt && token.expiresAt <= now) return null;
    this.recordUse(token.id, now);
    const scope = token.role || token.appScopes ? { role: token.role ?? token.user.role, appScopes: token.appScopes } : null;
    const result = { tokenId: token.id, user: token.user, scope };
    if (generation === this.generation) this.remember(tokenHash, result, token.expiresAt, now);
    return result;
  }

  private remember(tokenHash: string, result: AuthenticatedToken, expiresAt: Date | null, now: Date): void {
    if (this.cache.size >= CACHE_MAX_ENTRIES) this.cache.delete(this.cache.keys().next().value as string);
    this.cache.set(tokenHash, { result, expiresAt: expiresAt?.getTime() ?? null, cachedAt: now.getTime() });
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

  private recordUse(tokenId: string, now: Date): void {
    const last = this.lastUsedWrites.get(tokenId) ?? 0;
    if (now.getTime() - last < LAST_USED_WRITE_INTERVAL_MS) return;
    this.lastUsedWrites.set(tokenId, now.getTime());
    this.tokens.update({ id: tokenId }, { lastUsedAt: now }).catch((error: Error) => {
      this.logger.warn(`Could not record token use: ${error.message}`);
    });
  }
}

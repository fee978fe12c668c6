import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, Repository } from 'typeorm';
import { GATEWAY_CONFIG, GatewayConfig } from '../config/gateway-config';
import { AccessChanges } from './access-changes.service';
import { UserEntity, UserRole } from './user.entity';
import { UserExistsError, UserNotFoundError } from './users.errors';

/**
 * Work that must commit or roll back together with disabling or locking a user, run inside that transaction.
 * Other modules register it (auth ends the user's sessions), so users need not know their tables.
 */
export type UserDisabledHook = (userId: string, transaction: EntityManager) => Promise<void>;

export interface UserChanges {
  name?: string;
  role?: UserRole;
  appScopes?: string[] | null;
  disabled?: boolean;
}

@Injectable()
export class UsersService implements OnApplicationBootstrap {
  private readonly logger = new Logger(UsersService.name);
  private readonly disabledHooks = new Set<UserDisabledHook>();

  constructor(
    @InjectRepository(UserEntity) private readonly users: Repository<UserEntity>,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    private readonly accessChanges: AccessChanges,
  ) {}

  /**
   * ADMIN_USERS bootstraps access: each listed email gets an admin account if it has none. An existing
   * account is left alone, so a role an admin changed later is never overwritten by a restart.
   */
  async onApplicationBootstrap(): Promise<void> {
    for (const email of this.config.adminEmails) {
      const result = await this.users.createQueryBuilder().insert().values({ email, role: 'admin' }).orIgnore().execute();
      if (result.identifiers.some(Boolean)) this.logger.log(`Created admin ${email} from ADMIN_USERS`);
    }
  }

  /** Runs `hook` in the transaction of every change that disables a user; update() awaits it. */
  onDisable(hook: UserDisabledHook): void {
    this.disabledHooks.add(hook);
  }

  findAll(): Promise<UserEntity[]> {
    return this.users.find({ order: { email: 'ASC' } });
  }

  findByEmail(email: string): Promise<UserEntity | null> {
    return this.users.findOneBy({ email: email.toLowerCase() });
  }

  findById(id: string): Promise<UserEntity | null> {
    return this.users.findOneBy({ id });
  }

  async getByEmail(email: string): Promise<UserEntity> {
    const user = await this.findByEmail(email);
    if (!user) throw new UserNotFoundError(email);
    return user;
  }

  async create(email: string, role: UserRole, name = '', appScopes: string[] | null = null): Promise<UserEntity> {
    const normalised = email.toLowerCase();
    const result = await this.users
      .createQueryBuilder()
      .insert()
      // TypeORM's insert typing cannot express a jsonb array column.
      .values({ email: normalised, role, name, appScopes: appScopes as never })
      .orIgnore()
      .returning('*')
      .execute();
    if (result.identifiers.filter(Boolean).length === 0) throw new UserExistsError(normalised);
    return this.getByEmail(normalised);
  }

  /**
   * Disabling and what it ends commit as one: when this returns, the user's sessions are gone, and a
   * re-enable that follows cannot meet one still waiting to be deleted. Other instances hear after commit.
   */
  async update(email: string, changes: UserChanges): Promise<UserEntity> {
    const saved = await this.users.manager.transaction(async (transaction) => {
      // Locked, so two admins changing one user at once apply both changes rather than lose one.
      const user = await transaction.findOne(UserEntity, { where: { email: email.toLowerCase() }, lock: { mode: 'pessimistic_write' } });
      if (!user) throw new UserNotFoundError(email);
      Object.assign(user, changes);
      const updated = await transaction.save(user);
      if (changes.disabled === true) for (const hook of this.disabledHooks) await hook(user.id, transaction);
      return updated;
    });
    await this.accessChanges.announce({ userId: saved.id });
    return saved;
  }

  /**
   * Locks a user out until `until` (failed second factors): refused everywhere, and their sessions end
   * with the lock, as with disabling, so whoever held one must sign in again once it lifts.
   */
  async lock(userId: string, until: Date, reason: string): Promise<void> {
    await this.users.manager.transaction(async (transaction) => {
      await transaction.update(UserEntity, { id: userId }, { lockedUntil: until, lockedReason: reason });
      for (const hook of this.disabledHooks) await hook(userId, transaction);
    });
    await this.accessChanges.announce({ userId });
  }

  async unlock(email: string): Promise<UserEntity> {
    const user = await this.getByEmail(email);
    await this.users.update({ id: user.id }, { lockedUntil: null, lockedReason: null });
    await this.accessChanges.announce({ userId: user.id });
    return this.getByEmail(email);
  }

  /** Records that a user has (a date) or no longer has (null) a confirmed second factor. */
  async setMfaEnrolled(userId: string, enrolledAt: Date | null): Promise<void> {
    await this.users.update({ id: userId }, { mfaEnrolledAt: enrolledAt });
    await this.accessChanges.announce({ userId });
  }

  async remove(email: string): Promise<void> {
    const user = await this.getByEmail(email);
    // The schema cascades the delete to the user's sessions and tokens, in this same statement.
    await this.users.delete({ id: user.id });
    await this.accessChanges.announce({ userId: user.id });
  }
}

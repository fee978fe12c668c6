import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { GATEWAY_CONFIG, GatewayConfig } from '../config/gateway-config';
import { AccessChanges } from './access-changes.service';
import { UserEntity, UserRole } from './user.entity';
import { UserExistsError, UserNotFoundError } from './users.errors';

export interface UserChanges {
  name?: string;
  role?: UserRole;
  appScopes?: string[] | null;
  disabled?: boolean;
}

@Injectable()
export class UsersService implements OnApplicationBootstrap {
  private readonly logger = new Logger(UsersService.name);

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

  async update(email: string, changes: UserChanges): Promise<UserEntity> {
    const user = await this.getByEmail(email);
    Object.assign(user, changes);
    const saved = await this.users.save(user);
    await this.accessChanges.announce({ userId: user.id, sessionsEnded: changes.disabled === true });
    return saved;
  }

  async remove(email: string): Promise<void> {
    const user = await this.getByEmail(email);
    await this.users.delete({ id: user.id });
    await this.accessChanges.announce({ userId: user.id });
  }
}

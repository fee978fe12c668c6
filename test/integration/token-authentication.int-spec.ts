import type { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { getRepositoryToken } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { DataSource, Repository } from 'typeorm';
import { CliModule } from '../../src/cli/cli.module';
import { loadGatewayConfig } from '../../src/config/gateway-config';
import { ApiTokenEntity } from '../../src/tokens/api-token.entity';
import { generateTokenSecret } from '../../src/tokens/token-secret';
import { TokensService } from '../../src/tokens/tokens.service';
import type { UserRole } from '../../src/users/user.entity';
import { UsersService } from '../../src/users/users.service';
import { TestDatabase, createTestDatabase } from '../support/test-database';

const MINUTE = 60_000;

describe('authenticating a token', () => {
  let database: TestDatabase;
  let app: INestApplicationContext;
  let tokens: TokensService;
  let users: UsersService;
  let repository: Repository<ApiTokenEntity>;
  let dataSource: DataSource;
  let emails = 0;

  beforeAll(async () => {
    database = await createTestDatabase();
    const config = loadGatewayConfig({
      NODE_ENV: 'test',
      RACK_HOST: 'http://127.0.0.1:9',
      RACK_TOKEN: 'unused',
      DATA_DIR: 'memory://',
      ...(database.url ? { DATABASE_URL: database.url } : {}),
    });
    app = await NestFactory.createApplicationContext(CliModule.forRoot(config), { logger: false });
    tokens = app.get(TokensService);
    users = app.get(UsersService);
    repository = app.get(getRepositoryToken(ApiTokenEntity));
    dataSource = app.get(DataSource);
  });

  afterAll(async () => {
    await app.close();
    await database.drop();
  });

  /** A fresh owner and token for each test: nothing shared, no order dependence. */
  async function ownerWithToken(role: UserRole = 'deployer', tokenRole: UserRole | null = null) {
    const owner = await users.create(`owner${(emails += 1)}@example.com`, role);
    const { token, secret } = await tokens.create(owner, { name: 'test', expiresAt: null, role: tokenRole });
    return { owner, token, secret };
  }

  const lastUsedAt = async (tokenId: string) => (await repository.findOneByOrFail({ id: tokenId })).lastUsedAt?.getTime() ?? null;

  /** last_used_at is written off the request path: wait for it rather than sleeping a fixed time. */
  async function eventuallyLastUsedAt(tokenId: string, expected: number): Promise<number | null> {
    let seen = await lastUsedAt(tokenId);
    for (let attempt = 0; attempt < 100 && seen !== expected; attempt += 1) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      seen = await lastUsedAt(tokenId);
    }
    return seen;
  }

  it('gives the token and its owner as the users module has it, narrowed by the token’s own role', async () => {
    const { owner, token, secret } = await ownerWithToken('deployer', 'viewer');
    expect(await tokens.authenticate(secret)).toEqual({
      tokenId: token.id,
      user: expect.objectContaining({ id: owner.id, email: owner.email, role: 'deployer', disabled: false }),
      scope: { role: 'viewer', appScopes: null },
      stepUpUntil: null,
    });
  });

  it('answers a repeated token from memory: a change made behind its back goes unseen until the cache entry ages out', async () => {
    const { token, secret } = await ownerWithToken();
    const now = new Date();
    const first = await tokens.authenticate(secret, now);
    expect(first).not.toBeNull();
    // Neither of these is announced, so only a query could notice them.
    await dataSource.query(`UPDATE users SET name = 'renamed' WHERE id = $1`, [first?.user.id]);
    await dataSource.query(`UPDATE api_tokens SET revoked_at = now() WHERE id = $1`, [token.id]);

    const second = await tokens.authenticate(secret, new Date(now.getTime() + 1_000));
    expect(second).toBe(first);
    expect(second?.user.name).toBe('');
    expect(await tokens.authenticate(secret, new Date(now.getTime() + MINUTE + 1_000))).toBeNull();
  });

  it('refuses the tokens of a disabled owner at once, cached or not, and accepts them again when re-enabled', async () => {
    const { owner, secret } = await ownerWithToken();
    const unused = await tokens.create(owner, { name: 'never used', expiresAt: null });
    expect(await tokens.authenticate(secret)).not.toBeNull();

    await users.update(owner.email, { disabled: true });
    expect(await tokens.authenticate(secret)).toBeNull();
    expect(await tokens.authenticate(unused.secret)).toBeNull();

    await users.update(owner.email, { disabled: false });
    expect(await tokens.authenticate(secret)).toMatchObject({ user: { id: owner.id, disabled: false } });
  });

  it('refuses a token whose owner was deleted: the foreign key takes the token with its owner', async () => {
    const { owner, token, secret } = await ownerWithToken();
    expect(await tokens.authenticate(secret)).not.toBeNull();

    await users.remove(owner.email);
    expect(await tokens.authenticate(secret)).toBeNull();
    expect(await repository.findOneBy({ id: token.id })).toBeNull();
    await expect(tokens.create({ ...owner, id: randomUUID() }, { name: 'orphan', expiresAt: null })).rejects.toThrow(
      /api_tokens_user_id_fkey/,
    );
  });

  it('refuses unknown, revoked and expired tokens', async () => {
    const { owner, token, secret } = await ownerWithToken();
    expect(await tokens.authenticate(generateTokenSecret())).toBeNull();
    expect(await tokens.authenticate(`${secret.slice(0, -1)}${secret.endsWith('A') ? 'B' : 'A'}`)).toBeNull();

    const expiring = await tokens.create(owner, { name: 'expiring', expiresAt: new Date(Date.now() + MINUTE) });
    expect(await tokens.authenticate(expiring.secret)).not.toBeNull();
    expect(await tokens.authenticate(expiring.secret, new Date(Date.now() + 2 * MINUTE))).toBeNull();

    expect(await tokens.authenticate(secret)).not.toBeNull();
    await tokens.revoke(token.id);
    expect(await tokens.authenticate(secret)).toBeNull();
  });

  it('writes last_used_at at most once a minute, whether the token comes from memory or from the database', async () => {
    const { owner, token, secret } = await ownerWithToken();
    const start = Date.now();
    const at = (offset: number) => new Date(start + offset);
    const writes = jest.spyOn(repository, 'update');
    try {
      expect(await tokens.authenticate(secret, at(0))).not.toBeNull();
      expect(await eventuallyLastUsedAt(token.id, start)).toBe(start);
      expect(await tokens.authenticate(secret, at(30_000))).not.toBeNull();

      // An access change drops the cache entry; the next lookup learns the last write from the row.
      await users.update(owner.email, { name: 'changed' });
      expect(await tokens.authenticate(secret, at(45_000))).not.toBeNull();
      expect(writes).toHaveBeenCalledTimes(1);

      expect(await tokens.authenticate(secret, at(MINUTE + 1_000))).not.toBeNull();
      expect(await eventuallyLastUsedAt(token.id, start + MINUTE + 1_000)).toBe(start + MINUTE + 1_000);
      expect(await tokens.authenticate(secret, at(MINUTE + 30_000))).not.toBeNull();
      expect(writes).toHaveBeenCalledTimes(2);
    } finally {
      writes.mockRestore();
    }
  });
});

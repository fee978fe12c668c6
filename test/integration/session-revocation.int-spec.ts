import type { Session } from 'fastify';
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { DatabaseSessionStore } from '../../src/auth/database-session.store';
import type { UserEntity } from '../../src/users/user.entity';
import { UsersService } from '../../src/users/users.service';
import { MockRack, startMockRack } from '../support/mock-rack';
import { describeOnPostgresServer } from '../support/test-database';
import { TestGateway, startTestGateway } from '../support/test-gateway';

const SESSIONS_PER_USER = 20;
const ROUNDS = 20;

describe('ending a user’s sessions', () => {
  let rack: MockRack;
  let gateway: TestGateway;
  let store: DatabaseSessionStore;
  let users: UsersService;
  let emails = 0;

  beforeAll(async () => {
    rack = await startMockRack();
    gateway = await startTestGateway({ rackUrl: rack.url, rackToken: rack.password });
    store = gateway.app.get(DatabaseSessionStore);
    users = gateway.app.get(UsersService);
  });

  afterAll(async () => {
    await gateway.close();
    await rack.close();
  });

  const newUser = () => gateway.createUser(`holder-${++emails}@example.com`, 'viewer');

  const saveSession = (sessionId: string, data: Record<string, unknown>) =>
    new Promise<void>((resolve, reject) =>
      store.set(sessionId, data as unknown as Session, (error) => (error ? reject(error) : resolve())),
    );

  const loadSession = (sessionId: string) =>
    new Promise<Session | null | undefined>((resolve, reject) =>
      store.get(sessionId, (error, session) => (error ? reject(error) : resolve(session))),
    );

  /** A session as sign-in leaves it: stored anonymous by regenerate(), then saved with its user. */
  async function signedInSession(user: UserEntity): Promise<string> {
    const sessionId = randomBytes(24).toString('base64url');
    await saveSession(sessionId, {});
    await saveSession(sessionId, { userId: user.id });
    return sessionId;
  }

  async function loadableCount(sessionIds: readonly string[]): Promise<number> {
    const loaded = await Promise.all(sessionIds.map((sessionId) => loadSession(sessionId)));
    return loaded.filter(Boolean).length;
  }

  async function storedRows(user: UserEntity): Promise<number> {
    const [{ count }] = await gateway.app
      .get(DataSource)
      .query<[{ count: number }]>('SELECT count(*)::int AS count FROM sessions WHERE user_id = $1', [user.id]);
    return count;
  }

  it(`has ended all ${SESSIONS_PER_USER} sessions when the disabling returns, so an immediate re-enable finds none (${ROUNDS} rounds)`, async () => {
    const user = await newUser();
    for (let round = 0; round < ROUNDS; round += 1) {
      const sessionIds = await Promise.all(Array.from({ length: SESSIONS_PER_USER }, () => signedInSession(user)));
      expect(await loadableCount(sessionIds)).toBe(SESSIONS_PER_USER);

      await users.update(user.email, { disabled: true });
      await users.update(user.email, { disabled: false });

      expect({ round, rows: await storedRows(user), loadable: await loadableCount(sessionIds) }).toEqual({ round, rows: 0, loadable: 0 });
    }
  }, 120_000);

  it('does not let a request that loaded a session before the disabling write it back afterwards', async () => {
    const user = await newUser();
    const sessionId = await signedInSession(user);
    // What @fastify/session holds for a request in flight; it saves it again when the answer is sent.
    const inFlight = await loadSession(sessionId);
    expect(inFlight).toMatchObject({ userId: user.id });

    await users.update(user.email, { disabled: true });
    await saveSession(sessionId, inFlight as unknown as Record<string, unknown>);
    await users.update(user.email, { disabled: false });

    expect(await loadSession(sessionId)).toBeNull();
    expect(await storedRows(user)).toBe(0);
  });

  it('keeps the user enabled and their sessions alive when the disabling fails: both commit or neither', async () => {
    const user = await newUser();
    const sessionIds = await Promise.all([signedInSession(user), signedInSession(user)]);
    // Runs after the session store's own hook, inside the same transaction, and fails it (for this user only).
    users.onDisable((userId) => (userId === user.id ? Promise.reject(new Error('disabling refused by test')) : Promise.resolve()));

    await expect(users.update(user.email, { disabled: true })).rejects.toThrow('disabling refused by test');

    expect((await users.getByEmail(user.email)).disabled).toBe(false);
    expect(await loadableCount(sessionIds)).toBe(2);
  });

  it('ends the sessions of a deleted user with the user', async () => {
    const user = await newUser();
    const sessionIds = await Promise.all([signedInSession(user), signedInSession(user)]);

    await users.remove(user.email);

    expect(await storedRows(user)).toBe(0);
    expect(await loadableCount(sessionIds)).toBe(0);
  });

  describeOnPostgresServer('while another transaction holds a session', () => {
    /** Polls (no fixed sleep) until a deletion of sessions is queued behind a row lock; false if none comes. */
    async function deletionWaitsOnLock(): Promise<boolean> {
      for (let attempt = 0; attempt < 500; attempt += 1) {
        const waiting = await gateway.app
          .get(DataSource)
          .query<unknown[]>(
            `SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE 'DELETE FROM "sessions"%'`,
          );
        if (waiting.length > 0) return true;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      return false;
    }

    it('does not return from disabling until the deletion of the sessions has gone through', async () => {
      const user = await newUser();
      const sessionIds = await Promise.all(Array.from({ length: SESSIONS_PER_USER }, () => signedInSession(user)));
      const holder = new Client({ connectionString: gateway.config.database.url });
      await holder.connect();
      try {
        // Holds one of the user's sessions, as a request saving it would, so deleting them has to wait.
        await holder.query('BEGIN');
        await holder.query('SELECT 1 FROM sessions WHERE user_id = $1 LIMIT 1 FOR UPDATE', [user.id]);
        let returned = false;
        const disabling = users.update(user.email, { disabled: true }).then(() => {
          returned = true;
        });
        const waiting = await deletionWaitsOnLock();
        expect({ waiting, returned }).toEqual({ waiting: true, returned: false });

        await holder.query('COMMIT');
        await disabling;
        expect({ rows: await storedRows(user), loadable: await loadableCount(sessionIds) }).toEqual({ rows: 0, loadable: 0 });
      } finally {
        await holder.end();
      }
    });
  });
});

import { LeasedThrottlerStorage } from './leased-throttler-storage';
import { MemoryWindowCounters, WINDOW_MS, WindowCounters } from './window-counters';

/** Counters as Redis keeps them, in this process: shared, counting round trips, and breakable. */
class SharedCounters extends WindowCounters {
  readonly shared = true;
  available = true;
  roundTrips = 0;
  private readonly counts = new MemoryWindowCounters();

  add(key: string, amount: number, windowEndsAt: number): Promise<number> {
    this.roundTrips += 1;
    if (!this.available) return Promise.reject(new Error('Connection is closed.'));
    return Promise.resolve(this.counts.addNow(key, amount, windowEndsAt));
  }
}

const START = 1_800_000_000_000;

describe('LeasedThrottlerStorage', () => {
  let now: number;
  let counters: SharedCounters;
  const instance = () =>
    new LeasedThrottlerStorage(
      counters,
      (name) => (name === 'read' ? 'allow' : 'count-locally'),
      () => now,
    );
  const admitted = async (storage: LeasedThrottlerStorage, key: string, limit: number, times: number, name = 'write') => {
    let count = 0;
    for (let hit = 0; hit < times; hit += 1) if (!(await storage.increment(key, WINDOW_MS, limit, WINDOW_MS, name)).isBlocked) count += 1;
    return count;
  };

  beforeEach(() => {
    now = START;
    counters = new SharedCounters();
  });

  it('admits exactly the limit across instances, asking the shared counter far less than once a request', async () => {
    const [first, second] = [instance(), instance()];
    let admittedTotal = 0;
    for (let round = 0; round < 700; round += 1) admittedTotal += await admitted(round % 2 === 0 ? first : second, 'token:a', 1000, 1);
    expect(admittedTotal).toBe(700);
    expect(counters.roundTrips).toBeLessThan(120);
    for (let round = 0; round < 700; round += 1) admittedTotal += await admitted(round % 2 === 0 ? first : second, 'token:a', 1000, 1);
    expect(admittedTotal).toBeLessThanOrEqual(1000);
    expect(admittedTotal).toBeGreaterThanOrEqual(990);
  });

  it('stops asking once the counter is full, and starts again in the next window', async () => {
    const storage = instance();
    expect(await admitted(storage, 'token:b', 5, 5)).toBe(5);
    const tripsAtLimit = counters.roundTrips;
    const refused = await storage.increment('token:b', WINDOW_MS, 5, WINDOW_MS, 'write');
    expect(refused).toEqual({ totalHits: 6, timeToExpire: 60, isBlocked: true, timeToBlockExpire: 60 });
    expect(await admitted(storage, 'token:b', 5, 50)).toBe(0);
    expect(counters.roundTrips).toBe(tripsAtLimit + 1);
    expect(storage.exhaustedFor('token:b', WINDOW_MS, 5)).toBe(60);

    now = START + WINDOW_MS;
    expect(storage.exhaustedFor('token:b', WINDOW_MS, 5)).toBe(0);
    expect(await admitted(storage, 'token:b', 5, 6)).toBe(5);
  });

  it('says how long is left of the window', async () => {
    now = START - (START % WINDOW_MS) + 45_500;
    const storage = instance();
    await admitted(storage, 'token:c', 1, 1);
    expect(await storage.increment('token:c', WINDOW_MS, 1, WINDOW_MS, 'write')).toMatchObject({ isBlocked: true, timeToBlockExpire: 15 });
  });

  it('while the shared counter is down: passes reads uncounted and counts the rest on this instance', async () => {
    const storage = instance();
    counters.available = false;
    expect(await admitted(storage, 'token:d', 3, 10, 'read')).toBe(10);
    expect(await admitted(storage, 'token:d', 3, 10, 'write')).toBe(3);
    expect(storage.exhaustedFor('token:d', WINDOW_MS, 3)).toBeGreaterThan(0);
  });

  it('counts exactly on this instance alone without shared counters', async () => {
    const storage = new LeasedThrottlerStorage(
      new MemoryWindowCounters(),
      () => 'count-locally',
      () => now,
    );
    expect(await admitted(storage, 'ip:1', 20, 25)).toBe(20);
    expect(storage.exhaustedFor('ip:1', WINDOW_MS, 20)).toBe(60);
    expect(storage.exhaustedFor('ip:2', WINDOW_MS, 20)).toBe(0);
  });
});

import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort } from '../support/free-port';
import { MockRack, startMockRack } from '../support/mock-rack';

const ROOT = resolve(__dirname, '../..');

/** The gateway as operators run it (src/main.ts), so the signal handling under test is the real one. */
describe('a gateway told to stop (SIGTERM)', () => {
  let rack: MockRack;
  let dataDir: string;
  let gateway: ChildProcess;
  let url: string;

  beforeAll(async () => {
    rack = await startMockRack();
    dataDir = mkdtempSync(join(tmpdir(), 'rgw-shutdown-'));
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    gateway = spawn(process.execPath, ['-r', '@swc-node/register', 'src/main.ts'], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        NODE_ENV: 'development',
        HOST: '127.0.0.1',
        PORT: String(port),
        RACK_HOST: rack.url,
        RACK_TOKEN: rack.password,
        DATA_DIR: dataDir,
        LOG_LEVEL: 'warn',
        SHUTDOWN_GRACE_SECONDS: '2',
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    for (let attempt = 0; attempt < 300; attempt += 1) {
      const status = await readiness();
      if (status === 200) return;
      await new Promise((done) => setTimeout(done, 100));
    }
    throw new Error('the gateway did not become ready');
  }, 60_000);

  afterAll(async () => {
    if (gateway.exitCode === null) gateway.kill('SIGKILL');
    await rack.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function readiness(): Promise<number | undefined> {
    try {
      return (await fetch(`${url}/api/v1/health/ready`)).status;
    } catch {
      return undefined;
    }
  }

  it('fails readiness at once, keeps serving through the grace period, then closes and exits 0', async () => {
    const exited = new Promise<number | null>((done) => gateway.once('exit', (code) => done(code)));
    const signalledAt = Date.now();
    gateway.kill('SIGTERM');
    let draining: Response | undefined;
    for (let attempt = 0; attempt < 20 && draining?.status !== 503; attempt += 1) {
      draining = await fetch(`${url}/api/v1/health/ready`);
    }
    expect(draining?.status).toBe(503);
    expect(await draining?.json()).toMatchObject({
      error: { instance: { status: 'down', message: 'shutting down: finishing requests in flight' } },
    });
    expect((await fetch(`${url}/api/v1/health/live`)).status).toBe(200);

    expect(await exited).toBe(0);
    expect(Date.now() - signalledAt).toBeGreaterThanOrEqual(2_000);
    await expect(fetch(`${url}/api/v1/health/live`)).rejects.toThrow();
  }, 40_000);
});

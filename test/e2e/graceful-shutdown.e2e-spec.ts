import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request as httpRequest } from 'node:http';
import { startGatewayProcess } from '../support/gateway-process';
import { MockRack, SEED, startMockRack } from '../support/mock-rack';
import { runScript } from '../support/run-script';
import { basicAuth } from '../support/test-gateway';
import { RackSocket } from '../support/websocket-client';

/** The gateway as operators run it (src/main.ts), so the signal handling under test is the real one. */
describe('a gateway told to stop (SIGTERM)', () => {
  let rack: MockRack;
  let dataDir: string;
  let gateway: ChildProcess;
  let url: string;
  let token: string;

  beforeAll(async () => {
    rack = await startMockRack();
    dataDir = mkdtempSync(join(tmpdir(), 'rgw-shutdown-'));
    const env = {
      NODE_ENV: 'development',
      HOST: '127.0.0.1',
      RACK_HOST: rack.url,
      RACK_TOKEN: rack.password,
      DATA_DIR: dataDir,
      APP_SECRET_KEY: 'shutdown-test-secret-key-0123456789abcdef',
      ADMIN_USERS: 'oncall@example.com',
      MFA_REQUIRED: 'false',
      LOG_LEVEL: 'warn',
      SHUTDOWN_GRACE_SECONDS: '2',
    };
    // The embedded engine serves one process: the token is made before the gateway takes the data directory.
    const created = await runScript('src/cli/create-token.ts', ['--user', 'oncall@example.com', '--name', 'shutdown'], env, 60_000);
    if (created.code !== 0) throw new Error(`token:create failed: ${created.stderr}`);
    token = created.stdout.trim();
    ({ url, process: gateway } = await startGatewayProcess(env));
  }, 240_000);

  afterAll(async () => {
    if (gateway?.exitCode === null) gateway.kill('SIGKILL');
    await rack.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** Streams `chunks` 64 KiB writes to the rack's object store, one every `intervalMs`; resolves to the status. */
  function slowUpload(path: string, chunks: number, intervalMs: number): Promise<number | undefined> {
    const chunk = Buffer.alloc(64 * 1024, 7);
    return new Promise((resolve) => {
      const upload = httpRequest(`${url}${path}`, {
        method: 'POST',
        headers: { authorization: basicAuth(token), 'content-type': 'application/octet-stream', 'content-length': chunks * chunk.length },
      });
      upload.on('response', (response) => {
        response.resume();
        response.on('end', () => resolve(response.statusCode));
      });
      upload.on('error', () => resolve(undefined));
      let sent = 0;
      const timer = setInterval(() => {
        upload.write(chunk);
        sent += 1;
        if (sent === chunks) {
          clearInterval(timer);
          upload.end();
        }
      }, intervalMs);
    });
  }

  it('fails readiness at once, keeps serving through the grace period, finishes an upload, tells an exec session, and exits 0', async () => {
    const exec = await RackSocket.open(`${url}/apps/myapp/processes/${SEED.apps.myapp.processes.web[0]}/exec`, {
      authorization: basicAuth(token),
      command: 'sleep 600',
    });
    // Still sending well past the grace period, when the gateway closes.
    const upload = slowUpload('/apps/myapp/objects/tmp/during-shutdown.tgz', 40, 100);
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

    expect(await upload).toBe(200);
    const [stored] = rack.requests().filter((entry) => entry.path === '/apps/myapp/objects/tmp/during-shutdown.tgz');
    expect(stored.bodySize).toBe(40 * 64 * 1024);
    expect(await exec.untilClosed()).toBe(1001);
    expect(exec.output().toString()).toContain('ERROR: the gateway is restarting; run the command again to reconnect\n');

    expect(await exited).toBe(0);
    expect(Date.now() - signalledAt).toBeGreaterThanOrEqual(2_000);
    await expect(fetch(`${url}/api/v1/health/live`)).rejects.toThrow();
  }, 40_000);
});

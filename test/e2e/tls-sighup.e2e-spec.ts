import { type ChildProcess, spawn } from 'node:child_process';
import { copyFile } from 'node:fs/promises';
import { Agent } from 'node:https';
import { join, resolve } from 'node:path';
import { freePort } from '../support/free-port';
import { MockRack, startMockRack } from '../support/mock-rack';
import { type IssuedCertificate, TestCertificateAuthority } from '../support/test-certificates';
import { type TestDatabase, createTestDatabase } from '../support/test-database';
import { httpsRequest } from '../support/tls-client';

const ROOT = resolve(__dirname, '../..');

/** The gateway as operators run it (src/main.ts), so the SIGHUP under test is the real signal handling. */
describe('a gateway serving TLS told to reload its certificate (SIGHUP)', () => {
  let ca: TestCertificateAuthority;
  let caCert: Buffer;
  let first: IssuedCertificate;
  let second: IssuedCertificate;
  let third: IssuedCertificate;
  let rack: MockRack;
  let database: TestDatabase;
  let served: { certFile: string; keyFile: string };
  let gateway: ChildProcess;
  let output = '';
  let url: string;

  beforeAll(async () => {
    ca = await TestCertificateAuthority.create();
    caCert = await ca.cert();
    [first, second, third] = await Promise.all([ca.issue('first'), ca.issue('second'), ca.issue('third')]);
    served = { certFile: join(ca.dir, 'gateway.crt'), keyFile: join(ca.dir, 'gateway.key') };
    await replaceServed(first);
    rack = await startMockRack();
    database = await createTestDatabase();
    const port = await freePort();
    url = `https://127.0.0.1:${port}`;
    gateway = spawn(process.execPath, ['-r', '@swc-node/register', 'src/main.ts'], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        NODE_ENV: 'development',
        HOST: '127.0.0.1',
        PORT: String(port),
        RACK_HOST: rack.url,
        RACK_TOKEN: rack.password,
        // The embedded engine, in memory, without a server: this test needs nothing kept.
        ...(database.url ? { DATABASE_URL: database.url } : { DATA_DIR: 'memory://' }),
        LOG_LEVEL: 'info',
        TLS_CERT_FILE: served.certFile,
        TLS_KEY_FILE: served.keyFile,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    gateway.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    gateway.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    // Compiling src/ and migrating takes a while on a busy machine.
    await until(async () => (await fresh().catch(() => undefined))?.status === 200, 'the gateway did not become ready', 80_000);
  }, 90_000);

  afterAll(async () => {
    if (gateway && gateway.exitCode === null) gateway.kill('SIGKILL');
    await rack?.close();
    await database?.drop();
    await ca?.dispose();
  });

  async function replaceServed(cert: IssuedCertificate, key: IssuedCertificate = cert): Promise<void> {
    await copyFile(cert.certFile, served.certFile);
    await copyFile(key.keyFile, served.keyFile);
  }

  const fresh = () => httpsRequest(`${url}/api/v1/health/live`, { ca: caCert });

  async function until(condition: () => boolean | Promise<boolean>, failure: string, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (await condition()) return;
      await new Promise((done) => setTimeout(done, 100));
    }
    throw new Error(`${failure}; output:\n${output}`);
  }

  it('serves a renewed pair to new connections, keeps open ones, and keeps serving (the old pair) when a renewal is bad', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const before = await httpsRequest(`${url}/api/v1/health/live`, { ca: caCert, agent });
      expect(before.peerFingerprint256).toBe(first.fingerprint256);

      await replaceServed(second);
      gateway.kill('SIGHUP');
      await until(() => output.includes('TLS certificate reloaded: now serving CN=second'), 'no reload was logged');
      expect((await fresh()).peerFingerprint256).toBe(second.fingerprint256);
      const kept = await httpsRequest(`${url}/api/v1/health/live`, { ca: caCert, agent });
      expect(kept).toMatchObject({ status: 200, localPort: before.localPort, peerFingerprint256: first.fingerprint256 });

      // A renewal caught half-written: the new certificate with the old key.
      await replaceServed(third, second);
      gateway.kill('SIGHUP');
      await until(() => output.includes('TLS certificate not reloaded'), 'no refused reload was logged');
      expect(output).toMatch(/TLS certificate not reloaded, still serving the previous one: .*gateway\.key is not the private key/);
      expect(gateway.exitCode).toBeNull();
      expect((await fresh()).peerFingerprint256).toBe(second.fingerprint256);
    } finally {
      agent.destroy();
    }
  }, 40_000);
});

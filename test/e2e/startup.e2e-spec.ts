import { spawn } from 'node:child_process';
import { resolve } from 'node:path';

const ROOT = resolve(__dirname, '../..');

function startGatewayProcess(env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolvePromise) => {
    const child = spawn(process.execPath, ['-r', '@swc-node/register', 'src/main.ts'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stdout, stderr });
    });
  });
}

describe('a production start with bad configuration', () => {
  it('exits non-zero before listening and names every bad variable in one message', async () => {
    const { code, stdout, stderr } = await startGatewayProcess({
      NODE_ENV: 'production',
      RACK_HOST: 'api.rack.example.com',
      PORT: '99999',
      PUBLIC_URL: 'https://gateway.example.com',
      GOOGLE_CLIENT_ID: 'id',
      GOOGLE_CLIENT_SECRET: 'secret',
      APP_SECRET_KEY: 'short',
    });
    expect(code).toBe(1);
    expect(stderr).toContain('Invalid configuration');
    expect(stderr).toMatch(/RACK_TOKEN: .*required/);
    expect(stderr).toMatch(/PORT: /);
    expect(stderr).toMatch(/APP_SECRET_KEY: .*32 characters/);
    expect(stderr).not.toMatch(/GOOGLE_CLIENT_ID|RACK_HOST:/);
    expect(stdout).not.toMatch(/listening|started/i);
  }, 40_000);
});

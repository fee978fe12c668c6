import { resolve } from 'node:path';
import { runScript } from '../support/run-script';

describe('a production start with bad configuration', () => {
  it('exits non-zero before listening and names every bad variable in one message', async () => {
    const { code, stdout, stderr } = await runScript('src/main.ts', [], {
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

  it('exits non-zero before listening when its TLS certificate pair cannot be served, naming the variable', async () => {
    const { code, stdout, stderr } = await runScript('src/main.ts', [], {
      NODE_ENV: 'production',
      RACK_HOST: 'api.rack.example.com',
      RACK_TOKEN: 'rack-secret',
      PUBLIC_URL: 'https://gateway.example.com',
      GOOGLE_CLIENT_ID: 'id',
      GOOGLE_CLIENT_SECRET: 'secret',
      APP_SECRET_KEY: 'k'.repeat(32),
      TLS_CERT_FILE: resolve(__dirname, '../support/fixtures/rack-tls.crt'),
      TLS_KEY_FILE: '/nonexistent/gateway.key',
    });
    expect(code).toBe(1);
    expect(stderr).toBe('Invalid configuration:\n  - TLS_KEY_FILE: cannot read /nonexistent/gateway.key (ENOENT)\n');
    expect(stdout).not.toMatch(/listening|started/i);
  }, 40_000);
});

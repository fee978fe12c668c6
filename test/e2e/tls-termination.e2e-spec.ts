import { Logger } from 'nestjs-pino';
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { IncomingHttpHeaders } from 'node:http';
import { Agent } from 'node:https';
import { join } from 'node:path';
import { Server as TlsServer } from 'node:tls';
import WebSocket from 'ws';
import { STRICT_TRANSPORT_SECURITY } from '../../src/bootstrap';
import { InvalidConfigurationError } from '../../src/config/environment-variables';
import { loadGatewayConfig } from '../../src/config/gateway-config';
import { reloadServerCertificate } from '../../src/tls/server-certificate';
import { type MockOAuthProvider, startMockOAuthProvider } from '../support/mock-oauth';
import { type MockRack, SEED, startMockRack } from '../support/mock-rack';
import { rawRequest } from '../support/raw-request';
import { type IssuedCertificate, TestCertificateAuthority } from '../support/test-certificates';
import { TEST_OAUTH_CLIENT, type TestGateway, basicAuth, startTestGateway } from '../support/test-gateway';
import { httpsRequest, tlsHandshake } from '../support/tls-client';

const ADMIN = 'boss@example.com';
const WEB_PID = SEED.apps.myapp.processes.web[0];

let ca: TestCertificateAuthority;
let caCert: Buffer;
let first: IssuedCertificate;
let second: IssuedCertificate;
let third: IssuedCertificate;
let rack: MockRack;

beforeAll(async () => {
  ca = await TestCertificateAuthority.create();
  caCert = await ca.cert();
  [first, second, third] = await Promise.all([ca.issue('first'), ca.issue('second'), ca.issue('third')]);
  rack = await startMockRack();
});

afterAll(async () => {
  await rack?.close();
  await ca?.dispose();
});

/** The files the gateway is configured with, which a test replaces in place as an operator's renewal would. */
interface ServedFiles {
  readonly certFile: string;
  readonly keyFile: string;
  replaceWith(cert: IssuedCertificate, key?: IssuedCertificate): Promise<void>;
}

async function servedFiles(initial: IssuedCertificate): Promise<ServedFiles> {
  const dir = await mkdtemp(join(ca.dir, 'served-'));
  const files = {
    certFile: join(dir, 'gateway.crt'),
    keyFile: join(dir, 'gateway.key'),
    async replaceWith(cert: IssuedCertificate, key: IssuedCertificate = cert) {
      await copyFile(cert.certFile, files.certFile);
      await copyFile(key.keyFile, files.keyFile);
    },
  };
  await files.replaceWith(initial);
  return files;
}

const portOf = (gateway: TestGateway) => Number(new URL(gateway.url).port);

function cookieLine(headers: IncomingHttpHeaders, name: string): string {
  const line = (headers['set-cookie'] ?? []).find((candidate) => candidate.startsWith(`${name}=`));
  if (!line) throw new Error(`no ${name} cookie among ${JSON.stringify(headers['set-cookie'])}`);
  return line;
}

type GatewayGet = (url: string, cookie?: string) => Promise<{ status: number; headers: IncomingHttpHeaders }>;

/**
 * A Google sign-in walked by hand, hop by hop, returning the cookies the gateway set on the way: the
 * sign-in state cookie, then the session cookie. `reach` turns a gateway URL the provider redirects to
 * (built from PUBLIC_URL) into one this test can call.
 */
async function signInCookies(oauth: MockOAuthProvider, gatewayUrl: string, get: GatewayGet, reach = (url: string) => url) {
  const login = await get(`${gatewayUrl}/api/v1/auth/login`);
  expect(login.status).toBe(302);
  const signInState = cookieLine(login.headers, 'rgw_sign_in');
  oauth.queueLogin({ email: ADMIN, name: 'Pat Person' });
  const authorized = await fetch(login.headers.location ?? '', { redirect: 'manual' });
  expect(authorized.status).toBe(302);
  const callback = await get(reach(authorized.headers.get('location') ?? ''), signInState.split(';')[0]);
  expect(callback).toMatchObject({ status: 302, headers: { location: '/api/v1/me' } });
  return { signInState, session: cookieLine(callback.headers, 'rgw_session') };
}

describe('a gateway terminating TLS itself (TLS_CERT_FILE, TLS_KEY_FILE)', () => {
  let oauth: MockOAuthProvider;
  let gateway: TestGateway;

  beforeAll(async () => {
    const files = await servedFiles(first);
    oauth = await startMockOAuthProvider({ ...TEST_OAUTH_CLIENT, redirectUris: [] });
    gateway = await startTestGateway({
      rackUrl: rack.url,
      rackToken: rack.password,
      oauthUrl: oauth.url,
      env: { TLS_CERT_FILE: files.certFile, TLS_KEY_FILE: files.keyFile, ADMIN_USERS: ADMIN },
    });
    oauth.allowRedirectUri(`${gateway.url}/api/v1/auth/callback`);
  });

  afterAll(async () => {
    await gateway?.close();
    await oauth?.close();
  });

  it('serves HTTPS that verifies against the issuing CA, over HTTP/1.1 only, and nothing in plain HTTP', async () => {
    expect(gateway.url).toMatch(/^https:/);
    const answer = await httpsRequest(`${gateway.url}/api/v1/health/live`, { ca: caCert });
    expect(answer.status).toBe(200);
    expect(answer.peerFingerprint256).toBe(first.fingerprint256);

    const offered = await tlsHandshake(portOf(gateway), { ca: caCert, ALPNProtocols: ['h2', 'http/1.1'] });
    expect(offered).toMatchObject({ protocol: 'TLSv1.3', alpnProtocol: 'http/1.1' });
    await expect(tlsHandshake(portOf(gateway), { ca: caCert, ALPNProtocols: ['h2'] })).rejects.toMatchObject({
      code: 'ERR_SSL_TLSV1_ALERT_NO_APPLICATION_PROTOCOL',
    });
    // A client that does not trust the CA is refused by its own verification.
    await expect(tlsHandshake(portOf(gateway), {})).rejects.toMatchObject({ code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
    await expect(rawRequest(`http://127.0.0.1:${portOf(gateway)}/api/v1/health/live`, { method: 'GET', headers: {} })).rejects.toThrow();
  });

  it('refuses TLS 1.1 and 1.0 with a protocol_version alert, and takes TLS 1.2', async () => {
    // SECLEVEL=0: this client would speak TLS 1.0 and 1.1; the refusal is the gateway's.
    const legacy = { ca: caCert, minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' } as const;
    await expect(tlsHandshake(portOf(gateway), legacy)).rejects.toMatchObject({ code: 'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION' });
    expect(await tlsHandshake(portOf(gateway), { ca: caCert, maxVersion: 'TLSv1.2' })).toMatchObject({ protocol: 'TLSv1.2' });
  });

  it('sends Strict-Transport-Security on every answer: its own, the rack’s, and its refusals on rack paths', async () => {
    const { token } = await gateway.createUserWithToken('hsts@example.com', 'viewer');
    const own = await httpsRequest(`${gateway.url}/api/v1/me`, { ca: caCert, headers: { authorization: basicAuth(token) } });
    const proxied = await httpsRequest(`${gateway.url}/apps`, { ca: caCert, headers: { authorization: basicAuth(token) } });
    const refused = await httpsRequest(`${gateway.url}/apps`, { ca: caCert });
    expect([own.status, proxied.status, refused.status]).toEqual([200, 200, 401]);
    expect(JSON.parse(proxied.body)).toHaveLength(2);
    for (const answer of [own, proxied, refused]) {
      expect(answer.headers['strict-transport-security']).toBe('max-age=31536000; includeSubDomains');
    }
    expect(STRICT_TRANSPORT_SECURITY).toBe('max-age=31536000; includeSubDomains');
  });

  it('marks the sign-in state cookie and the session cookie Secure', async () => {
    const get: GatewayGet = (url, cookie) => httpsRequest(url, { ca: caCert, headers: cookie ? { cookie } : {} });
    const { signInState, session } = await signInCookies(oauth, gateway.url, get);
    expect(signInState).toMatch(/; Secure(;|$)/);
    expect(signInState).toMatch(/; HttpOnly(;|$)/);
    expect(session).toMatch(/; Secure(;|$)/);
    expect(session).toMatch(/; HttpOnly(;|$)/);
  });
});

describe('a gateway behind a TLS-terminating load balancer (plain HTTP, PUBLIC_URL https, TRUSTED_PROXIES)', () => {
  const PUBLIC_URL = 'https://gateway.example.com';
  let oauth: MockOAuthProvider;
  let gateway: TestGateway;

  beforeAll(async () => {
    oauth = await startMockOAuthProvider({ ...TEST_OAUTH_CLIENT, redirectUris: [`${PUBLIC_URL}/api/v1/auth/callback`] });
    gateway = await startTestGateway({
      rackUrl: rack.url,
      rackToken: rack.password,
      oauthUrl: oauth.url,
      env: { PUBLIC_URL, ADMIN_USERS: ADMIN, TRUSTED_PROXIES: 'loopback' },
    });
  });

  afterAll(async () => {
    await gateway?.close();
    await oauth?.close();
  });

  it('sends Strict-Transport-Security, for the balancer to pass on to browsers', async () => {
    const own = await fetch(`${gateway.url}/api/v1/health/live`);
    const refused = await fetch(`${gateway.url}/apps`);
    expect(own.headers.get('strict-transport-security')).toBe(STRICT_TRANSPORT_SECURITY);
    expect(refused.headers.get('strict-transport-security')).toBe(STRICT_TRANSPORT_SECURITY);
  });

  it('marks the sign-in state cookie and the session cookie Secure, set when the balancer says the browser came over HTTPS', async () => {
    // What the balancer adds: the browser's connection to it was TLS.
    const get: GatewayGet = (url, cookie) =>
      rawRequest(url, { method: 'GET', headers: { 'x-forwarded-proto': 'https', ...(cookie ? { cookie } : {}) } });
    const reach = (url: string) => url.replace(PUBLIC_URL, gateway.url);
    const { signInState, session } = await signInCookies(oauth, gateway.url, get, reach);
    expect(signInState).toMatch(/; Secure(;|$)/);
    expect(session).toMatch(/; Secure(;|$)/);
  });
});

describe('reloading the certificate (what SIGHUP runs in main.ts)', () => {
  let files: ServedFiles;
  let gateway: TestGateway;

  beforeEach(async () => {
    files = await servedFiles(first);
    gateway = await startTestGateway({
      rackUrl: rack.url,
      rackToken: rack.password,
      env: { TLS_CERT_FILE: files.certFile, TLS_KEY_FILE: files.keyFile },
    });
  });

  afterEach(async () => {
    await gateway?.close();
  });

  function reload(): boolean {
    const server: unknown = gateway.app.getHttpServer();
    if (!(server instanceof TlsServer)) throw new Error('the gateway is not serving TLS');
    return reloadServerCertificate(server, files, gateway.app.get(Logger));
  }

  const freshConnection = () => httpsRequest(`${gateway.url}/api/v1/health/live`, { ca: caCert });

  /** An exec of `cat` through the gateway: each line sent comes back, as long as the connection lives. */
  async function openEcho(): Promise<{ echo(line: string): Promise<string>; close(): void }> {
    const { token } = await gateway.createUserWithToken(`ops-${Date.now()}@example.com`, 'ops');
    const socket = new WebSocket(`${gateway.url.replace(/^https/, 'wss')}/apps/myapp/processes/${WEB_PID}/exec`, {
      ca: caCert,
      headers: { authorization: basicAuth(token), command: 'cat' },
      perMessageDeflate: false,
    });
    await new Promise((resolve, reject) => {
      socket.once('open', resolve);
      socket.once('error', reject);
    });
    return {
      echo: (line) =>
        new Promise((resolve) => {
          socket.once('message', (data: Buffer) => resolve(data.toString('utf8')));
          socket.send(Buffer.from(line), { binary: false });
        }),
      close: () => socket.terminate(),
    };
  }

  it('serves the new pair to new connections; open keep-alive connections and websockets carry on', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const before = await httpsRequest(`${gateway.url}/api/v1/health/live`, { ca: caCert, agent });
      expect(before.peerFingerprint256).toBe(first.fingerprint256);
      const exec = await openEcho();
      expect(await exec.echo('before the reload\n')).toBe('before the reload\n');

      await files.replaceWith(second);
      expect(reload()).toBe(true);

      const kept = await httpsRequest(`${gateway.url}/api/v1/health/live`, { ca: caCert, agent });
      expect(kept).toMatchObject({ status: 200, localPort: before.localPort, peerFingerprint256: first.fingerprint256 });
      expect(await exec.echo('after the reload\n')).toBe('after the reload\n');
      exec.close();

      expect((await freshConnection()).peerFingerprint256).toBe(second.fingerprint256);
      expect(gateway.logs.text()).toContain(`TLS certificate reloaded: now serving CN=second (SHA-256 ${second.fingerprint256}`);
      // setSecureContext resets what it is not given: the reload keeps the listener's settings.
      await expect(
        tlsHandshake(portOf(gateway), { ca: caCert, minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' }),
      ).rejects.toMatchObject({ code: 'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION' });
      expect(await tlsHandshake(portOf(gateway), { ca: caCert, ALPNProtocols: ['h2', 'http/1.1'] })).toMatchObject({
        alpnProtocol: 'http/1.1',
      });
    } finally {
      agent.destroy();
    }
  });

  it('keeps serving the current pair when the new one does not load, and logs why', async () => {
    const refusals: Array<[string, () => Promise<void>, RegExp]> = [
      [
        'a key of another certificate',
        () => files.replaceWith(second, third),
        /gateway\.key is not the private key of the certificate in .*gateway\.crt/,
      ],
      [
        'a certificate file that is not PEM',
        () => writeFile(files.certFile, 'not a certificate\n'),
        /gateway\.crt holds no PEM certificate/,
      ],
      [
        'a key file that is not a key',
        () => copyFile(second.certFile, files.keyFile),
        /gateway\.key is not an unencrypted PEM private key/,
      ],
      ['a missing key file', () => rm(files.keyFile), /cannot read .*gateway\.key \(ENOENT\)/],
    ];
    for (const [what, replace, logged] of refusals) {
      await files.replaceWith(second);
      await replace();
      expect([what, reload()]).toEqual([what, false]);
      expect((await freshConnection()).peerFingerprint256).toBe(first.fingerprint256);
      const line = gateway.logs.lines.filter((candidate) => candidate.includes('TLS certificate not reloaded')).pop() ?? '';
      expect(line).toMatch(logged);
    }

    await files.replaceWith(second);
    expect(reload()).toBe(true);
    expect((await freshConnection()).peerFingerprint256).toBe(second.fingerprint256);
  });
});

describe('TLS settings checked at start', () => {
  let files: ServedFiles;

  beforeEach(async () => {
    files = await servedFiles(first);
  });

  function problemsWith(env: Record<string, string>): string[] {
    try {
      loadGatewayConfig({ NODE_ENV: 'test', RACK_HOST: 'https://rack.example.com', RACK_TOKEN: 'rack-secret', ...env });
    } catch (error) {
      if (error instanceof InvalidConfigurationError) return error.problems;
      throw error;
    }
    return [];
  }

  it('takes a good pair, and then defaults PUBLIC_URL to https', () => {
    const config = loadGatewayConfig({
      NODE_ENV: 'test',
      RACK_HOST: 'https://rack.example.com',
      RACK_TOKEN: 'rack-secret',
      TLS_CERT_FILE: files.certFile,
      TLS_KEY_FILE: files.keyFile,
    });
    expect(config.http).toMatchObject({ publicUrl: 'https://localhost:8443', httpsOnly: true });
    expect(config.http.tls?.certificate.fingerprint256).toBe(first.fingerprint256);
  });

  it('names the variable whose file is missing, unreadable, not PEM, or holds a key that is not the certificate’s', async () => {
    const pair = { TLS_CERT_FILE: files.certFile, TLS_KEY_FILE: files.keyFile };
    expect(problemsWith({ ...pair, TLS_CERT_FILE: join(files.certFile, 'missing') })).toEqual([
      expect.stringMatching(/^TLS_CERT_FILE: cannot read .*\((ENOENT|ENOTDIR)\)$/),
    ]);
    expect(problemsWith({ ...pair, TLS_KEY_FILE: ca.dir })).toEqual([expect.stringMatching(/^TLS_KEY_FILE: cannot read .* \(EISDIR\)$/)]);

    await files.replaceWith(first, second);
    expect(problemsWith(pair)).toEqual([
      expect.stringMatching(/^TLS_KEY_FILE: .*gateway\.key is not the private key of the certificate in/),
    ]);

    await writeFile(files.keyFile, '-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n');
    expect(problemsWith(pair)).toEqual([expect.stringMatching(/^TLS_KEY_FILE: .*gateway\.key is not an unencrypted PEM private key/)]);

    await copyFile(first.keyFile, files.certFile);
    expect(problemsWith(pair)).toEqual([expect.stringMatching(/^TLS_CERT_FILE: .*gateway\.crt holds no PEM certificate/)]);
  });

  it('refuses a plain http PUBLIC_URL when the gateway serves HTTPS itself', () => {
    expect(problemsWith({ TLS_CERT_FILE: files.certFile, TLS_KEY_FILE: files.keyFile, PUBLIC_URL: 'http://gateway.example.com' })).toEqual([
      'PUBLIC_URL: must be an https:// URL when the gateway serves HTTPS itself (TLS_CERT_FILE)',
    ]);
  });
});

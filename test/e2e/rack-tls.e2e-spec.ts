import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { MockRack, startMockRack } from '../support/mock-rack';
import { RackSocket } from '../support/websocket-client';
import { basicAuth, startTestGateway } from '../support/test-gateway';

const FIXTURES = resolve(__dirname, '../support/fixtures');
const CERT_FILE = resolve(FIXTURES, 'rack-tls.crt');
const certificate = readFileSync(CERT_FILE);
const fingerprint = new X509Certificate(certificate).fingerprint256;

/** A wrong pin: the real one with its first byte changed. */
const wrongFingerprint = `${fingerprint.startsWith('00') ? '11' : '00'}${fingerprint.slice(2)}`;

describe('a rack with a self-signed certificate', () => {
  let rack: MockRack;

  beforeAll(async () => {
    rack = await startMockRack({ https: { key: readFileSync(resolve(FIXTURES, 'rack-tls.key')), cert: certificate } });
  });

  afterAll(() => rack.close());

  beforeEach(() => rack.reset());

  async function appsThrough(env: Record<string, string>): Promise<{ status: number; body: string }> {
    const gateway = await startTestGateway({ rackUrl: rack.url, rackToken: rack.password, env });
    try {
      const { token } = await gateway.createUserWithToken('dev@example.com', 'viewer');
      const response = await fetch(`${gateway.url}/apps`, { headers: { authorization: basicAuth(token) } });
      return { status: response.status, body: await response.text() };
    } finally {
      await gateway.close();
    }
  }

  it('is refused by default: the certificate is verified, and nothing reaches the rack', async () => {
    const { status, body } = await appsThrough({});
    expect(status).toBe(502);
    expect(body).toMatch(/^rack unreachable \(/);
    expect(rack.requests()).toHaveLength(0);
  });

  it('is trusted with RACK_CA_FILE', async () => {
    expect((await appsThrough({ RACK_CA_FILE: CERT_FILE })).status).toBe(200);
  });

  it('is trusted when its SHA-256 matches RACK_TLS_FINGERPRINT, colons or not, any case', async () => {
    expect((await appsThrough({ RACK_TLS_FINGERPRINT: fingerprint })).status).toBe(200);
    expect((await appsThrough({ RACK_TLS_FINGERPRINT: fingerprint.replace(/:/g, '').toLowerCase() })).status).toBe(200);
  });

  it('is refused on a pin mismatch before any request byte (and so the rack token) is sent', async () => {
    const { status, body } = await appsThrough({ RACK_TLS_FINGERPRINT: wrongFingerprint });
    expect(status).toBe(502);
    expect(body).toBe('rack unreachable (RACK_CERT_MISMATCH)\n');
    expect(rack.requests()).toHaveLength(0);
  });

  it('is accepted unverified only with RACK_TLS_INSECURE=true, which is logged as a warning', async () => {
    const gateway = await startTestGateway({ rackUrl: rack.url, rackToken: rack.password, env: { RACK_TLS_INSECURE: 'true' } });
    try {
      const { token } = await gateway.createUserWithToken('dev@example.com', 'viewer');
      expect((await fetch(`${gateway.url}/apps`, { headers: { authorization: basicAuth(token) } })).status).toBe(200);
      expect(gateway.logs.text()).toContain('RACK_TLS_INSECURE=true');
    } finally {
      await gateway.close();
    }
  });

  it('carries websockets over the pinned connection too', async () => {
    const gateway = await startTestGateway({ rackUrl: rack.url, rackToken: rack.password, env: { RACK_TLS_FINGERPRINT: fingerprint } });
    try {
      const { token } = await gateway.createUserWithToken('dev@example.com', 'viewer');
      const socket = await RackSocket.open(`${gateway.url}/apps/myapp/logs`, {
        authorization: basicAuth(token),
        follow: 'false',
        prefix: 'true',
      });
      await socket.untilEnd();
      expect(socket.output().toString('utf8')).toMatch(/^\S+ service\/\w+\//m);
      socket.close();
    } finally {
      await gateway.close();
    }
  });
});

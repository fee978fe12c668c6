import { createHash, randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { MockRack, startMockRack } from '../support/mock-rack';
import { TestGateway, basicAuth, startTestGateway } from '../support/test-gateway';

const UPLOAD_BYTES = 512 * 1024 * 1024;
const PATTERN = randomBytes(4 * 1024 * 1024);
const RSS_BUDGET_BYTES = 64 * 1024 * 1024;

/** 512 MB made of slices of one random block: the client itself allocates nothing per chunk. */
function uploadBody(): Readable {
  let sent = 0;
  return new Readable({
    read() {
      if (sent >= UPLOAD_BYTES) {
        this.push(null);
        return;
      }
      const chunk = PATTERN.subarray(0, Math.min(PATTERN.length, UPLOAD_BYTES - sent));
      sent += chunk.length;
      this.push(chunk);
    },
  });
}

function expectedDigest(): string {
  const hash = createHash('sha256');
  for (let sent = 0; sent < UPLOAD_BYTES; sent += PATTERN.length) hash.update(PATTERN);
  return hash.digest('hex');
}

describe('a large build upload', () => {
  let rack: MockRack;
  let gateway: TestGateway;
  let token: string;

  beforeAll(async () => {
    rack = await startMockRack();
    gateway = await startTestGateway({ rackUrl: rack.url, rackToken: rack.password });
    ({ token } = await gateway.createUserWithToken('deployer@example.com', 'deployer'));
  });

  afterAll(async () => {
    await gateway.close();
    await rack.close();
  });

  it.each([
    ['with Content-Length', true],
    ['chunked', false],
  ])(
    'streams 512 MB %s byte-identical to the rack while memory stays flat',
    async (_label, withLength) => {
      global.gc?.();
      const baseline = process.memoryUsage().rss;
      let peak = baseline;
      const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);

      const key = `tmp/${randomBytes(15).toString('hex')}.tgz`;
      const status = await new Promise<number>((resolve, reject) => {
        const upload = request(
          `${gateway.url}/apps/myapp/objects/${key}`,
          {
            method: 'POST',
            headers: {
              authorization: basicAuth(token),
              'content-type': 'application/octet-stream',
              ...(withLength ? { 'content-length': String(UPLOAD_BYTES) } : {}),
            },
          },
          (response) => {
            response.resume();
            response.on('end', () => resolve(response.statusCode ?? 0));
          },
        );
        upload.on('error', reject);
        pipeline(uploadBody(), upload).catch(reject);
      });
      clearInterval(sampler);

      expect(status).toBe(200);
      const stored = rack.state().objects.find((object) => object.key === key);
      expect(stored?.size).toBe(UPLOAD_BYTES);
      expect(stored?.sha256).toBe(expectedDigest());
      // Gateway, mock rack and client share this process, so this bounds the gateway's growth from above.
      expect(peak - baseline).toBeLessThan(RSS_BUDGET_BYTES);
    },
    120_000,
  );
});

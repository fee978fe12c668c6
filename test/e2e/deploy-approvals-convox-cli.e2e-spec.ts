import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Clock } from '../../src/common/clock';
import { AuthenticatorApp } from '../support/authenticators/authenticator-app';
import { ConvoxCli, findConvoxBinary } from '../support/convox-cli';
import { rackAndGateway } from '../support/gateway-fixture';
import { basicAuth } from '../support/test-gateway';

// The stock convox CLI 3.12.3 (../shared/bin) deploying with a CI token: CONVOX_BIN as in convox-cli.e2e-spec.ts.
const convox = findConvoxBinary();
const describeWithCli = convox.path === null ? describe.skip : describe;
if (convox.path === null && process.env.CI === 'true') {
  describe('deploy approvals with the stock convox CLI', () => {
    it('runs in CI, where the convox binary must be present', () => {
      throw new Error(`${convox.reason}: CI must run these tests (.ci/run sets CONVOX_BIN to ../shared/bin/convox)`);
    });
  });
}

const COMMIT = '5e1f0c3b9a7d2e4f6a8b0c1d2e3f4a5b6c7d8e9f';

describeWithCli('deploy approvals with the stock convox CLI', () => {
  const fixture = rackAndGateway({ env: { MFA_REQUIRED: 'true' } });
  let cli: ConvoxCli;
  let source: string;
  let now = Date.UTC(2026, 11, 2, 15, 0, 0);

  beforeAll(async () => {
    cli = await ConvoxCli.create(convox.path ?? '', fixture.gateway.url);
    source = join(cli.home, 'deploy-source');
    await mkdir(source, { recursive: true });
    await writeFile(join(source, 'convox.yml'), 'services:\n  web:\n    build: .\n    port: 3000\n');
    await writeFile(join(source, 'Dockerfile'), 'FROM alpine\nCMD ["true"]\n');
    jest.spyOn(fixture.gateway.app.get(Clock), 'now').mockImplementation(() => new Date(now));
  });

  afterAll(async () => {
    jest.restoreAllMocks();
    await cli?.dispose();
  });

  function call(method: string, path: string, token: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
    return fetch(`${fixture.gateway.url}${path}`, {
      method,
      headers: { authorization: basicAuth(token), 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
  }

  async function enrolledAdmin(): Promise<{ token: string; app: AuthenticatorApp }> {
    const { token } = await fixture.gateway.createUserWithToken('release-manager@example.com', 'admin');
    const started = (await (await call('POST', '/api/v1/mfa/totp', token, {})).json()) as { id: string; otpauth_uri: string };
    const app = new AuthenticatorApp(started.otpauth_uri);
    await call('POST', `/api/v1/mfa/totp/${started.id}/confirm`, token, { code: app.codeAt(now) });
    now += 11 * 60_000;
    return { token, app };
  }

  it('convox deploy with a CI token is refused naming the missing approval, then runs to the end once a person approves', async () => {
    const { token: ci } = await fixture.gateway.createUserWithToken('github-actions@example.com', 'cicd');
    fixture.rack.clearRequests();

    const refused = await cli.run(['deploy', '-a', 'myapp'], { token: ci, cwd: source, timeoutMs: 30_000 });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe(
      'ERROR: deploy approval required: no approved deploy lets this token upload myapp; ask for one with POST /api/v1/deploy-approval-requests\n',
    );
    expect(fixture.rack.requests().filter((entry) => entry.method === 'POST')).toEqual([]);

    const asked = await call('POST', '/api/v1/deploy-approval-requests', ci, { app: 'myapp', gitCommit: COMMIT, message: 'release 42' });
    const { id } = (await asked.json()) as { id: string };
    const approver = await enrolledAdmin();
    const approved = await call(
      'POST',
      `/api/v1/deploy-approval-requests/${id}/approve`,
      approver.token,
      {},
      {
        'x-mfa-totp': approver.app.codeAt(now),
      },
    );
    expect(approved.status).toBe(200);

    // The CLI waits for the app to settle after promoting: 5 s, then polls seeing it running.
    const deployed = await cli.run(['deploy', '-a', 'myapp'], { token: ci, cwd: source, timeoutMs: 50_000 });
    expect(deployed).toMatchObject({ code: 0, stderr: '', timedOut: false });
    const [build] = fixture.rack.state().builds.slice(-1);
    expect(deployed.stdout).toContain('Packaging source... OK\nUploading source... OK\nStarting build... OK\n');
    expect(deployed.stdout).toMatch(new RegExp(`Promoting ${build.release}\\.\\.\\. \\s*OK\\n$`));
    const request = (await (
      await fetch(`${fixture.gateway.url}/api/v1/deploy-approval-requests/${id}`, {
        headers: { authorization: basicAuth(ci) },
      })
    ).json()) as { status: string; buildId: string; releaseId: string };
    expect(request).toMatchObject({ status: 'deployed', buildId: build.id, releaseId: build.release });

    // The approval is spent: the same deploy again is refused before anything reaches the rack.
    const again = await cli.run(['deploy', '-a', 'myapp'], { token: ci, cwd: source, timeoutMs: 30_000 });
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(`ERROR: request ${id} allowed one upload, and its deploy is done`);
  }, 120_000);
});

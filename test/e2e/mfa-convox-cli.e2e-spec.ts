import { Clock } from '../../src/common/clock';
import { AuthenticatorApp } from '../support/authenticators/authenticator-app';
import { ConvoxCli, findConvoxBinary } from '../support/convox-cli';
import { rackAndGateway } from '../support/gateway-fixture';
import { SEED } from '../support/mock-rack';
import { basicAuth } from '../support/test-gateway';

// The stock convox CLI 3.12.3 (../shared/bin) meeting step-up: CONVOX_BIN as in convox-cli.e2e-spec.ts.
const convox = findConvoxBinary();
const describeWithCli = convox.path === null ? describe.skip : describe;
if (convox.path === null && process.env.CI === 'true') {
  describe('MFA with the stock convox CLI', () => {
    it('runs in CI, where the convox binary must be present', () => {
      throw new Error(`${convox.reason}: CI must run these tests (.ci/run sets CONVOX_BIN to ../shared/bin/convox)`);
    });
  });
}

const WEB_PID = SEED.apps.myapp.processes.web[0];
const WINDOW_MS = 10 * 60_000;

describeWithCli('MFA with the stock convox CLI', () => {
  const fixture = rackAndGateway({ env: { MFA_REQUIRED: 'true' } });
  let cli: ConvoxCli;
  let now = Date.UTC(2026, 11, 2, 9, 0, 0);
  let token: string;
  let app: AuthenticatorApp;

  beforeAll(async () => {
    cli = await ConvoxCli.create(convox.path ?? '', fixture.gateway.url);
    jest.spyOn(fixture.gateway.app.get(Clock), 'now').mockImplementation(() => new Date(now));
    ({ token } = await fixture.gateway.createUserWithToken('oncall@example.com', 'ops'));
    const started = (await post('/api/v1/mfa/totp', {})) as { id: string; otpauth_uri: string };
    app = new AuthenticatorApp(started.otpauth_uri);
    await post(`/api/v1/mfa/totp/${started.id}/confirm`, { code: app.codeAt(now) });
    // Past the window enrolment opened.
    now += WINDOW_MS + 60_000;
  });

  afterAll(async () => {
    jest.restoreAllMocks();
    await cli?.dispose();
  });

  async function post(path: string, body: unknown): Promise<unknown> {
    const response = await fetch(`${fixture.gateway.url}${path}`, {
      method: 'POST',
      headers: { authorization: basicAuth(token), 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (!response.ok) throw new Error(`${path} answered ${response.status}: ${await response.text()}`);
    return response.json();
  }

  const execThrough = (password: string) => cli.run(['exec', WEB_PID, 'echo stepped up', '-a', 'myapp'], { token: password });

  it('refuses exec and prints how to step up, then runs it after POST /api/v1/mfa/verify, then with TOKEN.totp.CODE', async () => {
    const refused = await execThrough(token);
    expect(refused.code).not.toBe(0);
    expect(refused.stdout + refused.stderr).toContain('exec:create needs a second factor verified in the last 10 minutes');
    expect(refused.stdout + refused.stderr).toContain('/api/v1/mfa/verify');
    expect(refused.stdout + refused.stderr).toContain('TOKEN.totp.CODE');

    await post('/api/v1/mfa/verify', { code: app.codeAt(now) });
    const afterVerify = await execThrough(token);
    expect(afterVerify).toMatchObject({ code: 0, stdout: 'stepped up\n' });

    now += WINDOW_MS + 60_000;
    expect((await execThrough(token)).code).not.toBe(0);
    const inline = await execThrough(`${token}.totp.${app.codeAt(now)}`);
    expect(inline).toMatchObject({ code: 0, stdout: 'stepped up\n' });
  });

  it('shows the rack-shaped refusal of an HTTP step-up command (convox restart)', async () => {
    now += WINDOW_MS + 60_000;
    const refused = await cli.run(['restart', '-a', 'myapp'], { token });
    expect(refused.code).toBe(1);
    expect(refused.stdout + refused.stderr).toContain('ERROR: apps:restart needs a second factor verified in the last 10 minutes');
  });
});

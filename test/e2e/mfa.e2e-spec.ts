import { DataSource } from 'typeorm';
import { Clock } from '../../src/common/clock';
import type { UserRole } from '../../src/users/user.entity';
import { AuthenticatorApp } from '../support/authenticators/authenticator-app';
import { SoftwareSecurityKey } from '../support/authenticators/software-security-key';
import { rackAndGateway } from '../support/gateway-fixture';
import { SEED } from '../support/mock-rack';
import { basicAuth } from '../support/test-gateway';
import { RackSocket } from '../support/websocket-client';

const EXIT_MARKER = 'F1E49A85-0AD7-4AEF-A618-C249C6E6568D';
const WEB_PID = SEED.apps.myapp.processes.web[0];
const STEP_MS = 30_000;
const WINDOW_MS = 10 * 60_000;

interface EnrolledPerson {
  readonly email: string;
  readonly token: string;
  readonly app: AuthenticatorApp;
  readonly backupCodes: string[];
  readonly otpSecret: string;
}

/**
 * Second factors through the gateway with MFA required, as people and the convox CLI meet them: TOTP
 * from an RFC 6238 authenticator written in the test, a software WebAuthn key, backup codes, the
 * step-up window on an injectable clock, replay, lockout and CI tokens.
 */
describe('MFA', () => {
  const fixture = rackAndGateway({ env: { MFA_REQUIRED: 'true' } });
  let now = Date.UTC(2026, 11, 2, 12, 0, 0);
  let people = 0;

  beforeEach(() => {
    jest.spyOn(fixture.gateway.app.get(Clock), 'now').mockImplementation(() => new Date(now));
  });

  afterEach(() => jest.restoreAllMocks());

  /** Moves the gateway's clock (and so the authenticator's code) on. */
  const advance = (ms: number) => (now += ms);
  const url = (path: string) => `${fixture.gateway.url}${path}`;
  const database = () => fixture.gateway.app.get(DataSource);

  function call(method: string, path: string, token: string, options: { body?: unknown; headers?: Record<string, string> } = {}) {
    return fetch(url(path), {
      method,
      headers: {
        authorization: basicAuth(token),
        ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
        ...options.headers,
      },
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
  }

  async function enrolPerson(role: UserRole): Promise<EnrolledPerson> {
    const email = `person-${(people += 1)}@example.com`;
    const { token } = await fixture.gateway.createUserWithToken(email, role);
    const started = await call('POST', '/api/v1/mfa/totp', token, { body: { label: 'Phone' } });
    expect(started.status).toBe(201);
    const { id, otpauth_uri, secret } = (await started.json()) as { id: string; otpauth_uri: string; secret: string };
    const app = new AuthenticatorApp(otpauth_uri);
    const confirmed = await call('POST', `/api/v1/mfa/totp/${id}/confirm`, token, { body: { code: app.codeAt(now) } });
    expect(confirmed.status).toBe(200);
    const { backup_codes } = (await confirmed.json()) as { backup_codes: string[] };
    // Past the window enrolment opened and onto a fresh step: nothing is verified from here on.
    advance(WINDOW_MS + STEP_MS);
    return { email, token, app, backupCodes: backup_codes, otpSecret: secret };
  }

  async function exec(token: string, password = token): Promise<string[]> {
    const socket = await RackSocket.open(url(`/apps/myapp/processes/${WEB_PID}/exec`), {
      authorization: basicAuth(password),
      command: 'echo through',
    });
    await socket.untilEnd(5_000);
    socket.close();
    void token;
    return socket.frames.map((frame) => frame.data.toString('latin1'));
  }

  describe('before enrolment', () => {
    it('a person reaches only enrolment, logout and me; everything else names where to enrol', async () => {
      const { token } = await fixture.gateway.createUserWithToken('unenrolled@example.com', 'admin');

      const proxied = await call('GET', '/apps', token);
      expect(proxied.status).toBe(403);
      expect(await proxied.text()).toBe(
        `enrol a second factor before using the gateway: ${fixture.gateway.url}/ui/mfa/enroll (or POST /api/v1/mfa/totp)\n`,
      );
      const admin = await call('GET', '/api/v1/users', token);
      expect(admin.status).toBe(403);
      expect(((await admin.json()) as { code: string }).code).toBe('mfa_enrollment_required');

      const me = await call('GET', '/api/v1/me', token);
      expect(await me.json()).toMatchObject({
        authenticatedBy: 'token',
        secondFactor: { required: true, enrolled: false, signInPending: false, stepUpUntil: null },
      });
      const status = await call('GET', '/api/v1/mfa/methods', token);
      expect(await status.json()).toMatchObject({ enrolled: false, required: true, methods: [] });
    });

    it('serves the requirements table to anyone, so clients can prompt before sending', async () => {
      const response = await fetch(url('/api/v1/mfa/requirements'));
      const table = (await response.json()) as {
        step_up_window_seconds: number;
        permissions: Array<{ permission: string; level: string }>;
        rack_routes: Array<{ method: string; path: string; level: string }>;
      };
      expect(table.step_up_window_seconds).toBe(600);
      expect(table.permissions).toEqual(
        expect.arrayContaining([
          { permission: 'exec:create', level: 'step-up' },
          { permission: 'apps:delete', level: 'always' },
          { permission: 'tokens:create', level: 'always' },
        ]),
      );
      expect(table.rack_routes).toContainEqual({
        method: 'SOCKET',
        path: '/apps/{app}/processes/{pid}/exec',
        permission: 'exec:create',
        level: 'step-up',
      });
      expect(table.rack_routes.some((route) => route.path === '/apps' && route.method === 'GET')).toBe(false);
    });
  });

  describe('enrolment', () => {
    it('TOTP: a QR code and URI, confirmed by a code, answers ten backup codes once', async () => {
      const { token } = await fixture.gateway.createUserWithToken('enrols@example.com', 'viewer');
      const started = await call('POST', '/api/v1/mfa/totp', token, { body: {} });
      const body = (await started.json()) as { id: string; secret: string; otpauth_uri: string; qr_code: string };
      expect(body.secret).toMatch(/^[A-Z2-7]{32}$/);
      expect(body.otpauth_uri).toContain(`secret=${body.secret}`);
      expect(body.otpauth_uri).toContain('issuer=Rack%20Gateway');
      expect(Buffer.from(body.qr_code.replace('data:image/svg+xml;base64,', ''), 'base64').toString()).toContain('<svg');
      const app = new AuthenticatorApp(body.otpauth_uri);

      const wrong = await call('POST', `/api/v1/mfa/totp/${body.id}/confirm`, token, { body: { code: app.codeAt(now + 10 * STEP_MS) } });
      expect(wrong.status).toBe(400);
      const confirmed = await call('POST', `/api/v1/mfa/totp/${body.id}/confirm`, token, { body: { code: app.codeAt(now) } });
      expect(confirmed.status).toBe(200);
      const { backup_codes, method } = (await confirmed.json()) as { backup_codes: string[]; method: { kind: string; label: string } };
      expect(method).toMatchObject({ kind: 'totp', label: 'Authenticator app' });
      expect(backup_codes).toHaveLength(10);
      expect(new Set(backup_codes).size).toBe(10);
      for (const code of backup_codes) expect(code).toMatch(/^[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}$/);

      const status = (await (await call('GET', '/api/v1/mfa/methods', token)).json()) as {
        enrolled: boolean;
        backup_codes_remaining: number;
      };
      expect(status).toMatchObject({ enrolled: true, backup_codes_remaining: 10 });
    });

    it('WebAuthn: a software security key registers and then verifies, its challenge spent and its counter checked', async () => {
      const person = await enrolPerson('ops');
      const key = new SoftwareSecurityKey(fixture.gateway.url);
      // Adding a method to an enrolled account is a step-up operation.
      const refused = await call('POST', '/api/v1/mfa/webauthn/registration-options', person.token);
      expect(refused.status).toBe(401);
      const optionsResponse = await call('POST', '/api/v1/mfa/webauthn/registration-options', person.token, {
        headers: { 'x-mfa-totp': person.app.codeAt(now) },
      });
      expect(optionsResponse.status).toBe(200);
      const registration = (await optionsResponse.json()) as { challenge_id: string; options: { challenge: string; rp: { id: string } } };
      expect(registration.options.rp.id).toBe('127.0.0.1');
      const registered = await call('POST', '/api/v1/mfa/webauthn/registrations', person.token, {
        body: { challenge_id: registration.challenge_id, response: key.register(registration.options), label: 'Test key' },
      });
      expect(registered.status).toBe(201);
      expect(((await registered.json()) as { backup_codes: unknown }).backup_codes).toBeNull();
      advance(WINDOW_MS + STEP_MS);

      const assertionOptions = async () => {
        const response = await call('POST', '/api/v1/mfa/webauthn/assertion-options', person.token);
        return (await response.json()) as {
          challenge_id: string;
          options: { challenge: string; rpId: string; allowCredentials: Array<{ id: string }> };
        };
      };
      const first = await assertionOptions();
      expect(first.options.allowCredentials.map((credential) => credential.id)).toEqual([key.credentialId.toString('base64url')]);
      const assertion = key.assert(first.options);
      const verified = await call('POST', '/api/v1/mfa/verify', person.token, {
        body: { challenge_id: first.challenge_id, response: assertion },
      });
      expect(verified.status).toBe(200);
      expect(await verified.json()).toEqual({ method: 'webauthn', step_up_until: new Date(now + WINDOW_MS).toISOString() });

      const replayed = await call('POST', '/api/v1/mfa/verify', person.token, {
        body: { challenge_id: first.challenge_id, response: assertion },
      });
      expect(replayed.status).toBe(401);
      expect(((await replayed.json()) as { detail: string }).detail).toContain('unknown, used or expired');

      const second = await assertionOptions();
      const cloned = key.assert(second.options, { counter: 1 });
      const clonedAnswer = await call('POST', '/api/v1/mfa/verify', person.token, {
        body: { challenge_id: second.challenge_id, response: cloned },
      });
      expect(clonedAnswer.status).toBe(401);
      expect(((await clonedAnswer.json()) as { detail: string }).detail).toContain('counter');

      // An always-level operation takes an assertion in the request itself.
      const fourth = await assertionOptions();
      const header = Buffer.from(JSON.stringify({ challenge_id: fourth.challenge_id, response: key.assert(fourth.options) })).toString(
        'base64url',
      );
      const created = await call('POST', '/api/v1/tokens', person.token, {
        body: { name: 'by key' },
        headers: { 'x-mfa-webauthn': header },
      });
      expect(created.status).toBe(201);
      expect(
        (await call('POST', '/api/v1/tokens', person.token, { body: { name: 'again' }, headers: { 'x-mfa-webauthn': header } })).status,
      ).toBe(401);

      const third = await assertionOptions();
      const phished = key.assert(third.options, { origin: 'https://gateway.example.evil' });
      expect(
        (await call('POST', '/api/v1/mfa/verify', person.token, { body: { challenge_id: third.challenge_id, response: phished } })).status,
      ).toBe(401);
    });
  });

  describe('managing methods', () => {
    it('lists and renames; new backup codes need a step-up; removing needs a code with the request', async () => {
      const person = await enrolPerson('viewer');
      const listed = (await (await call('GET', '/api/v1/mfa/methods', person.token)).json()) as {
        methods: Array<{ id: string; label: string }>;
      };
      expect(listed.methods).toEqual([expect.objectContaining({ kind: 'totp', label: 'Phone' })]);
      const [{ id }] = listed.methods;

      const renamed = await call('PATCH', `/api/v1/mfa/methods/${id}`, person.token, { body: { label: 'Old phone' } });
      expect(((await renamed.json()) as { label: string }).label).toBe('Old phone');
      expect((await call('PATCH', `/api/v1/mfa/methods/${id}`, person.token, { body: { label: 'x', extra: 1 } })).status).toBe(400);

      expect((await call('POST', '/api/v1/mfa/backup-codes', person.token)).status).toBe(401);
      const regenerated = await call('POST', '/api/v1/mfa/backup-codes', person.token, {
        headers: { 'x-mfa-totp': person.app.codeAt(now) },
      });
      const { backup_codes } = (await regenerated.json()) as { backup_codes: string[] };
      expect(backup_codes).toHaveLength(10);
      expect(backup_codes).not.toContain(person.backupCodes[0]);
      // The old codes are gone with the regeneration.
      advance(STEP_MS);
      expect(
        (await call('DELETE', `/api/v1/mfa/methods/${id}`, person.token, { headers: { 'x-mfa-totp': person.backupCodes[0] } })).status,
      ).toBe(401);

      // A window is not enough to remove a method: a code with the request is.
      expect((await call('DELETE', `/api/v1/mfa/methods/${id}`, person.token)).status).toBe(401);
      const removed = await call('DELETE', `/api/v1/mfa/methods/${id}`, person.token, { headers: { 'x-mfa-totp': backup_codes[0] } });
      expect(removed.status).toBe(204);

      // The last one gone, the person must enrol again before anything else.
      const status = (await (await call('GET', '/api/v1/mfa/methods', person.token)).json()) as {
        enrolled: boolean;
        backup_codes_remaining: number;
      };
      expect(status).toMatchObject({ enrolled: false, backup_codes_remaining: 0 });
      expect((await (await call('GET', '/apps', person.token)).text()).startsWith('enrol a second factor')).toBe(true);
    });

    it("answers 404 for another person's method", async () => {
      const owner = await enrolPerson('viewer');
      const other = await enrolPerson('viewer');
      const [{ id }] = ((await (await call('GET', '/api/v1/mfa/methods', owner.token)).json()) as { methods: Array<{ id: string }> })
        .methods;
      const answer = await call('DELETE', `/api/v1/mfa/methods/${id}`, other.token, { headers: { 'x-mfa-totp': other.app.codeAt(now) } });
      expect(answer.status).toBe(404);
      expect(((await (await call('GET', '/api/v1/mfa/methods', owner.token)).json()) as { methods: unknown[] }).methods).toHaveLength(1);
    });
  });

  describe('step-up over HTTP and websockets', () => {
    it('exec without a second factor is refused with guidance; with TOKEN.totp.CODE it runs', async () => {
      const person = await enrolPerson('ops');
      const refused = await exec(person.token);
      expect(refused[0]).toMatch(
        /^ERROR: exec:create needs a second factor verified in the last 10 minutes: POST http:\/\/127\.0\.0\.1:\d+\/api\/v1\/mfa\/verify/,
      );
      expect(refused[0]).toContain('TOKEN.totp.CODE');
      expect(refused.slice(-2)).toEqual([`${EXIT_MARKER}:1\n`, '']);
      expect(fixture.rack.requests().some((entry) => entry.path.endsWith('/exec'))).toBe(false);

      const ran = await exec(person.token, `${person.token}.totp.${person.app.codeAt(now)}`);
      expect(ran.join('')).toContain('through');
    });

    it('an HTTP step-up route answers 401 in the rack shape with the accepted methods named', async () => {
      const person = await enrolPerson('ops');
      const response = await call('DELETE', `/apps/myapp/processes/${WEB_PID}`, person.token);
      expect(response.status).toBe(401);
      expect(response.headers.get('x-mfa-required')).toBe('step-up');
      expect(response.headers.get('x-mfa-methods')).toBe('totp, backup-code, webauthn');
      expect(await response.text()).toMatch(/^processes:stop needs a second factor verified in the last 10 minutes/);
    });

    it('POST /api/v1/mfa/verify opens the window for that token until it closes', async () => {
      const person = await enrolPerson('ops');
      const verified = await call('POST', '/api/v1/mfa/verify', person.token, { body: { code: person.app.codeAt(now) } });
      expect(verified.status).toBe(200);
      expect(await verified.json()).toEqual({ method: 'totp', step_up_until: new Date(now + WINDOW_MS).toISOString() });
      expect(((await (await call('GET', '/api/v1/me', person.token)).json()) as { secondFactor: unknown }).secondFactor).toEqual({
        required: true,
        enrolled: true,
        signInPending: false,
        stepUpUntil: new Date(now + WINDOW_MS).toISOString(),
      });

      expect((await exec(person.token)).join('')).toContain('through');
      advance(WINDOW_MS - 1_000);
      expect((await exec(person.token)).join('')).toContain('through');
      advance(2_000);
      expect((await exec(person.token))[0]).toMatch(/^ERROR: exec:create needs a second factor/);
      // The record says how each exec met its second factor.
      const intents = async () =>
        (
          await database().query<Array<{ details: { mfa?: unknown } }>>(
            `SELECT details FROM audit_events WHERE kind = 'rack.intent' AND actor_email = $1 ORDER BY seq`,
            [person.email],
          )
        ).map((row) => row.details.mfa);
      for (let waited = 0; waited < 5_000 && (await intents()).length < 2; waited += 50)
        await new Promise((resolve) => setTimeout(resolve, 50));
      expect(await intents()).toEqual([
        { enrolled: true, level: 'step-up', by: 'step-up window' },
        { enrolled: true, level: 'step-up', by: 'step-up window' },
      ]);
    });

    it('an always-level operation needs a code with the request itself, window or not', async () => {
      const person = await enrolPerson('viewer');
      await call('POST', '/api/v1/mfa/verify', person.token, { body: { code: person.app.codeAt(now) } });
      advance(STEP_MS);

      const withWindow = await call('POST', '/api/v1/tokens', person.token, { body: { name: 'ci' } });
      expect(withWindow.status).toBe(401);
      expect(withWindow.headers.get('x-mfa-required')).toBe('always');
      expect(((await withWindow.json()) as { detail: string }).detail).toContain(
        'tokens:create needs a second factor with this very request',
      );

      const withCode = await call('POST', '/api/v1/tokens', person.token, {
        body: { name: 'ci' },
        headers: { 'x-mfa-totp': person.app.codeAt(now) },
      });
      expect(withCode.status).toBe(201);
    });

    it('a backup code works once, in the password or the header', async () => {
      const person = await enrolPerson('ops');
      const [first, second] = person.backupCodes;
      expect((await exec(person.token, `${person.token}.backup.${first}`)).join('')).toContain('through');
      advance(WINDOW_MS + 1_000);
      const reused = await call('DELETE', `/apps/myapp/processes/${WEB_PID}`, person.token, { headers: { 'x-mfa-totp': first } });
      expect(reused.status).toBe(401);
      expect(await reused.text()).toBe('second factor refused: unknown or already used backup code\n');
      const fresh = await call('DELETE', `/apps/myapp/processes/${WEB_PID}`, person.token, {
        headers: { 'x-mfa-totp': second.toLowerCase() },
      });
      expect(fresh.status).toBe(200);
      // Spent here, never passed on: the rack sees neither the code nor the token it rode with.
      const [stop] = fixture.rack
        .requests()
        .filter((entry) => entry.method === 'DELETE')
        .slice(-1);
      expect(stop.headers['x-mfa-totp']).toBeUndefined();
      expect(stop.headers.authorization).toBe(basicAuth(fixture.rack.password));
      const [socket] = fixture.rack
        .requests()
        .filter((entry) => entry.path.endsWith('/exec'))
        .slice(-1);
      expect(socket.headers.authorization).toBe(basicAuth(fixture.rack.password));
    });
  });

  describe('abuse', () => {
    it('refuses a TOTP code the second time, even within its step', async () => {
      const person = await enrolPerson('ops');
      const code = person.app.codeAt(now);
      expect((await call('POST', '/api/v1/mfa/verify', person.token, { body: { code } })).status).toBe(200);
      const replay = await call('POST', '/api/v1/mfa/verify', person.token, { body: { code } });
      expect(replay.status).toBe(401);
      expect(((await replay.json()) as { detail: string }).detail).toBe(
        'second factor refused: this code was already used; wait for the next one',
      );
    });

    it('locks the account at the fifth wrong code within five minutes until an admin unlocks it; every step is audited', async () => {
      const person = await enrolPerson('ops');
      const admin = await enrolPerson('admin');
      const wrong = String((Number(person.app.codeAt(now)) + 1) % 1_000_000).padStart(6, '0');
      for (let attempt = 1; attempt <= 4; attempt += 1) {
        const answer = await call('POST', '/api/v1/mfa/verify', person.token, { body: { code: wrong } });
        expect(answer.status).toBe(401);
        advance(10_000);
      }
      const fifth = await call('POST', '/api/v1/mfa/verify', person.token, { body: { code: wrong } });
      expect(fifth.status).toBe(403);
      expect(((await fifth.json()) as { code: string }).code).toBe('account_locked');

      // Locked: even the right code, and every other request, is refused.
      const sixth = await call('POST', '/api/v1/mfa/verify', person.token, { body: { code: person.app.codeAt(now) } });
      expect(sixth.status).toBe(403);
      expect((await call('GET', '/apps', person.token)).status).toBe(403);

      const shown = (await (await call('GET', `/api/v1/users/${person.email}`, admin.token)).json()) as {
        lockedUntil: string;
        lockedReason: string;
      };
      expect(shown.lockedUntil).toBe(new Date(now + 30 * 60_000).toISOString());
      expect(shown.lockedReason).toBe('5 failed second-factor attempts within 5 minutes');

      const unlockWithoutCode = await call('POST', `/api/v1/users/${person.email}/unlock`, admin.token);
      expect(unlockWithoutCode.status).toBe(401);
      const unlocked = await call('POST', `/api/v1/users/${person.email}/unlock`, admin.token, {
        headers: { 'x-mfa-totp': admin.app.codeAt(now) },
      });
      expect(unlocked.status).toBe(200);
      expect(((await unlocked.json()) as { lockedUntil: unknown }).lockedUntil).toBeNull();
      advance(STEP_MS);
      expect((await call('POST', '/api/v1/mfa/verify', person.token, { body: { code: person.app.codeAt(now) } })).status).toBe(200);

      // Events are written in batches: wait for the last one.
      const mfaEvents = () =>
        database().query<Array<{ kind: string }>>(
          `SELECT kind FROM audit_events WHERE actor_email = $1 AND kind LIKE 'mfa.%' ORDER BY seq`,
          [person.email],
        );
      for (let waited = 0; waited < 5_000 && !(await mfaEvents()).some((event) => event.kind === 'mfa.verified'); waited += 50) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect((await mfaEvents()).map((event) => event.kind)).toEqual([
        'mfa.method-added',
        'mfa.backup-codes-regenerated',
        'mfa.failed',
        'mfa.failed',
        'mfa.failed',
        'mfa.failed',
        'mfa.failed',
        'mfa.locked',
        'mfa.verified',
      ]);
    });

    it('lets the lock lapse after MFA_LOCKOUT_MINUTES', async () => {
      const person = await enrolPerson('viewer');
      for (let attempt = 0; attempt < 5; attempt += 1) await call('POST', '/api/v1/mfa/verify', person.token, { body: { code: '000000' } });
      expect((await call('GET', '/apps', person.token)).status).toBe(403);
      advance(30 * 60_000 + 1_000);
      expect((await call('GET', '/apps', person.token)).status).toBe(200);
    });

    it('a CI token cannot step up, whatever it sends: exec and builds get 403 naming the missing approval', async () => {
      const { token } = await fixture.gateway.createUserWithToken('ci@example.com', 'cicd');
      expect((await call('GET', '/apps', token)).status).toBe(200);
      const build = await call('POST', '/apps/myapp/builds', token, { headers: { 'x-mfa-totp': '123456' }, body: {} });
      expect(build.status).toBe(403);
      expect(await build.text()).toBe(
        'deploy approval required: no approved deploy lets this token build myapp; ask for one with POST /api/v1/deploy-approval-requests\n',
      );
      const frames = await exec(token, `${token}.totp.123456`);
      expect(frames[0]).toMatch(/^ERROR: deploy approval required: no approved deploy lets this token exec myapp/);
    });
  });

  it('never writes a TOTP secret, code, backup code or key material to the database or the logs', async () => {
    const person = await enrolPerson('ops');
    const code = person.app.codeAt(now);
    await exec(person.token, `${person.token}.totp.${code}`);
    await call('DELETE', `/apps/myapp/processes/${WEB_PID}`, person.token, { headers: { 'x-mfa-totp': person.backupCodes[0] } });

    // Every row of every table, as a dump would have it.
    const tables = await database().query<Array<{ table_name: string }>>(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'`,
    );
    let dump = '';
    // Binary columns (bytea) as hex, so a secret stored raw would show.
    const asHex = (_key: string, value: unknown) =>
      value !== null && typeof value === 'object' && (value as { type?: unknown }).type === 'Buffer'
        ? Buffer.from((value as { data: number[] }).data).toString('hex')
        : value;
    for (const { table_name } of tables) dump += JSON.stringify(await database().query(`SELECT * FROM "${table_name}"`), asHex);
    const logs = fixture.gateway.logs.text();
    expect(dump).toContain('totp_secret');
    for (const text of [dump, logs]) {
      expect(text).not.toContain(person.otpSecret);
      expect(text).not.toContain(person.app.secretHex);
      for (const backupCode of person.backupCodes) {
        expect(text).not.toContain(backupCode);
        expect(text).not.toContain(backupCode.replace(/-/g, ''));
      }
      expect(text).not.toContain(`.totp.${code}`);
      expect(text).not.toContain(person.token);
    }
  });
});

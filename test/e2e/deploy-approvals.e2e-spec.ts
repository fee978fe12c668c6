import { DataSource } from 'typeorm';
import { Clock } from '../../src/common/clock';
import { DeployApprovals } from '../../src/deploy-approvals/deploy-approvals.service';
import type { UserRole } from '../../src/users/user.entity';
import { AuthenticatorApp } from '../support/authenticators/authenticator-app';
import { freePort } from '../support/free-port';
import { rackAndGateway } from '../support/gateway-fixture';
import { basicAuth } from '../support/test-gateway';
import { WebhookReceiver, eventually } from '../support/webhook-receiver';
import { RackSocket } from '../support/websocket-client';

const COMMIT = '3f2c9e1a7b4d5e6f8091a2b3c4d5e6f708192a3b';
const OTHER_COMMIT = '9d8c7b6a5f4e3d2c1b0a99887766554433221100';
const STEP_MS = 30_000;
const WINDOW_MS = 15 * 60_000;

interface Approver {
  readonly email: string;
  readonly token: string;
  readonly app: AuthenticatorApp;
}

interface ApprovalView {
  id: string;
  status: string;
  progress: string | null;
  approvalsRequired: number;
  decisions: Array<{ by: string; decision: string }>;
  objectUrl: string | null;
  buildId: string | null;
  releaseId: string | null;
  approvalExpiresAt: string | null;
  auditEvents?: Array<{ kind: string; method: string | null; path: string | null; status: number | null }>;
}

/**
 * Deploy approvals as CI and people meet them over HTTP, with MFA required: a CI token asks, a second
 * person approves with TOTP, and the token may then upload, build, and promote that build's release,
 * each once and in order, and nothing else.
 */
describe('deploy approvals', () => {
  let receiver: WebhookReceiver;
  const fixture = rackAndGateway(async () => {
    receiver = new WebhookReceiver(await freePort(), '/services/T0/B0/approvals-secret');
    await receiver.listen();
    return {
      env: {
        MFA_REQUIRED: 'true',
        DEPLOY_APPROVAL_POLICIES: JSON.stringify({
          '*': { approvers: 1, commands: ['bin/migrate', 'echo approved'] },
          otherapp: { approvers: 2 },
        }),
        NOTIFICATION_WEBHOOK_URL: receiver.url,
        NOTIFICATION_RETRY_DELAY_SECONDS: '1',
      },
      rack: { buildMs: 50, promoteMs: 300 },
    };
  });

  afterAll(() => receiver.close());
  let now = Date.UTC(2026, 11, 2, 12, 0, 0);
  let people = 0;
  let commits = 0;

  beforeEach(() => {
    jest.spyOn(fixture.gateway.app.get(Clock), 'now').mockImplementation(() => new Date(now));
  });

  afterEach(() => jest.restoreAllMocks());

  const url = (path: string) => `${fixture.gateway.url}${path}`;

  function call(
    method: string,
    path: string,
    token: string,
    options: { json?: unknown; form?: string; headers?: Record<string, string> } = {},
  ) {
    const type =
      options.json !== undefined ? 'application/json' : options.form !== undefined ? 'application/x-www-form-urlencoded' : undefined;
    return fetch(url(path), {
      method,
      headers: { authorization: basicAuth(token), ...(type ? { 'content-type': type } : {}), ...options.headers },
      body: options.json !== undefined ? JSON.stringify(options.json) : options.form,
    });
  }

  async function person(role: UserRole): Promise<Approver> {
    const email = `approver-${(people += 1)}@example.com`;
    const { token } = await fixture.gateway.createUserWithToken(email, role);
    const started = await call('POST', '/api/v1/mfa/totp', token, { json: {} });
    const { id, otpauth_uri } = (await started.json()) as { id: string; otpauth_uri: string };
    const app = new AuthenticatorApp(otpauth_uri);
    expect((await call('POST', `/api/v1/mfa/totp/${id}/confirm`, token, { json: { code: app.codeAt(now) } })).status).toBe(200);
    // Past the window enrolment opened and onto a fresh step, so each decision needs its own code.
    now += 10 * 60_000 + STEP_MS;
    return { email, token, app };
  }

  async function ciToken(): Promise<string> {
    return (await fixture.gateway.createUserWithToken(`ci-${(people += 1)}@example.com`, 'cicd')).token;
  }

  /** A fresh commit per test: requests are unique per token, app and commit. */
  const nextCommit = () => `${(commits += 1).toString(16).padStart(7, '0')}${COMMIT.slice(7)}`;

  async function ask(token: string, body: Record<string, unknown>): Promise<ApprovalView> {
    const response = await call('POST', '/api/v1/deploy-approval-requests', token, { json: body });
    expect(response.status).toBe(201);
    return (await response.json()) as ApprovalView;
  }

  async function decide(approver: Approver, id: string, decision: 'approve' | 'reject' | 'extend'): Promise<Response> {
    now += STEP_MS;
    return call('POST', `/api/v1/deploy-approval-requests/${id}/${decision}`, approver.token, {
      json: {},
      headers: { 'x-mfa-totp': approver.app.codeAt(now) },
    });
  }

  async function approved(token: string, approver: Approver, app = 'myapp', gitCommit = nextCommit()): Promise<ApprovalView> {
    const request = await ask(token, { app, gitCommit });
    const answer = await decide(approver, request.id, 'approve');
    expect(answer.status).toBe(200);
    return (await answer.json()) as ApprovalView;
  }

  const upload = (token: string, key: string, app = 'myapp') =>
    call('POST', `/apps/${app}/objects/${key}`, token, { headers: { 'content-type': 'application/octet-stream' }, form: 'source tarball' });

  const build = (token: string, key: string, gitSha = '', app = 'myapp') =>
    call('POST', `/apps/${app}/builds`, token, {
      form: new URLSearchParams({ url: `object://${app}/${key}`, description: 'ci', 'git-sha': gitSha, manifest: 'convox.yml' }).toString(),
    });

  async function releaseOf(token: string, buildId: string): Promise<string> {
    for (let attempt = 0; attempt < 100; attempt += 1) {
      const answer = (await (await call('GET', `/apps/myapp/builds/${buildId}`, token)).json()) as { status: string; release: string };
      if (answer.status === 'complete') return answer.release;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`build ${buildId} never completed`);
  }

  /** The approved steps up to a release: an upload of `key`, its build, and the release the build made. */
  async function uploadedAndBuilt(token: string, key: string): Promise<{ buildId: string; releaseId: string }> {
    expect((await upload(token, key)).status).toBe(200);
    const buildId = ((await (await build(token, key)).json()) as { id: string }).id;
    return { buildId, releaseId: await releaseOf(token, buildId) };
  }

  async function view(token: string, id: string): Promise<ApprovalView> {
    return (await (await call('GET', `/api/v1/deploy-approval-requests/${id}`, token)).json()) as ApprovalView;
  }

  it('lets an approved CI token upload, build and promote that commit once each, in order, and nothing else', async () => {
    const ci = await ciToken();
    const admin = await person('admin');
    fixture.rack.clearRequests();

    const early = await upload(ci, 'tmp/early.tgz');
    expect(early.status).toBe(403);
    expect(await early.text()).toMatch(/^deploy approval required: no approved deploy lets this token upload myapp; ask for one with POST/);

    const request = await ask(ci, { app: 'myapp', gitCommit: COMMIT, gitBranch: 'main', message: 'Fix totals', ciMetadata: { run: 42 } });
    expect(request).toMatchObject({ status: 'pending', progress: null, approvalsRequired: 1 });
    const duplicate = await call('POST', '/api/v1/deploy-approval-requests', ci, { json: { app: 'myapp', gitCommit: COMMIT } });
    expect(duplicate.status).toBe(409);
    expect(await duplicate.json()).toMatchObject({ code: 'deploy_approval_exists', existing: { id: request.id } });

    const pending = await upload(ci, 'tmp/pending.tgz');
    expect(pending.status).toBe(403);
    expect(await pending.text()).toContain(`request ${request.id} to deploy myapp is still pending`);

    // The token that asked cannot approve; an approver needs a code with the very request.
    expect((await call('POST', `/api/v1/deploy-approval-requests/${request.id}/approve`, ci, { json: {} })).status).toBe(403);
    const withoutCode = await call('POST', `/api/v1/deploy-approval-requests/${request.id}/approve`, admin.token, { json: {} });
    expect(withoutCode.status).toBe(401);
    expect(((await withoutCode.json()) as { code: string }).code).toBe('mfa_required');
    const approval = await decide(admin, request.id, 'approve');
    expect(approval.status).toBe(200);
    expect(await approval.json()).toMatchObject({
      status: 'approved',
      progress: 'approved',
      decisions: [{ by: admin.email, decision: 'approve' }],
    });
    // Until now the rack heard only the gateway asking whether the app exists.
    expect(new Set(fixture.rack.requests().map((entry) => entry.route))).toEqual(new Set(['GET /apps/{name}']));

    expect((await upload(ci, 'tmp/elsewhere.tgz', 'otherapp')).status).toBe(403);
    expect((await upload(ci, 'tmp/source.tgz')).status).toBe(200);
    const secondUpload = await upload(ci, 'tmp/again.tgz');
    expect(secondUpload.status).toBe(409);
    expect(await secondUpload.text()).toBe(`request ${request.id} allows one upload, and it has been taken\n`);

    const otherObject = await build(ci, 'tmp/again.tgz');
    expect(otherObject.status).toBe(403);
    expect(await otherObject.text()).toContain('builds only its own upload (object://myapp/tmp/source.tgz)');
    const otherCommit = await build(ci, 'tmp/source.tgz', OTHER_COMMIT);
    expect(otherCommit.status).toBe(403);
    expect(await otherCommit.text()).toContain(`approves commit ${COMMIT} of myapp, not ${OTHER_COMMIT}`);
    const built = await build(ci, 'tmp/source.tgz', COMMIT);
    expect(built.status).toBe(200);
    const buildId = ((await built.json()) as { id: string }).id;
    expect((await build(ci, 'tmp/source.tgz', COMMIT)).status).toBe(409);

    const releaseId = await releaseOf(ci, buildId);
    const wrongRelease = await call('POST', '/apps/myapp/releases/RSEEDOLD/promote', ci);
    expect(wrongRelease.status).toBe(403);
    expect(await wrongRelease.text()).toContain(`approves promoting release ${releaseId} of myapp (its build ${buildId})`);
    expect((await call('POST', `/apps/myapp/releases/${releaseId}/promote`, ci)).status).toBe(200);
    const secondPromote = await call('POST', `/apps/myapp/releases/${releaseId}/promote`, ci);
    expect(secondPromote.status).toBe(409);

    expect(await view(ci, request.id)).toMatchObject({
      status: 'deployed',
      progress: 'deployed',
      objectUrl: 'object://myapp/tmp/source.tgz',
      buildId,
      releaseId,
    });
    // Outcomes reach the trail just after their answers: the detail links each step's intent and outcome.
    const linked = async () =>
      ((await view(ci, request.id)).auditEvents ?? [])
        .filter((event) => event.method === 'POST' && event.path?.startsWith('/apps/'))
        .map((event) => `${event.kind} ${event.path} ${event.status ?? ''}`.trim());
    // The CI token has no second factor of its own: each step met its level through the approvers'.
    const levelsMet = (
      await fixture.gateway.app
        .get(DataSource)
        .query<Array<{ mfa: unknown }>>(
          `SELECT details->'mfa' AS mfa FROM audit_events WHERE details->>'deployApprovalId' = $1 AND kind = 'rack.intent' ORDER BY seq`,
          [request.id],
        )
    ).map((event) => event.mfa);
    expect(levelsMet).toEqual([
      { enrolled: false, level: 'none' },
      { enrolled: false, level: 'step-up', by: 'deploy approval' },
      { enrolled: false, level: 'step-up', by: 'deploy approval' },
    ]);
    let events = await linked();
    for (let attempt = 0; attempt < 50 && events.length < 6; attempt += 1) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      events = await linked();
    }
    expect(events).toEqual([
      'rack.intent /apps/myapp/objects/tmp/source.tgz',
      'rack.exchange /apps/myapp/objects/tmp/source.tgz 200',
      'rack.intent /apps/myapp/builds',
      'rack.exchange /apps/myapp/builds 200',
      `rack.intent /apps/myapp/releases/${releaseId}/promote`,
      `rack.exchange /apps/myapp/releases/${releaseId}/promote 200`,
    ]);
    // Exactly one of each step reached the rack.
    const steps = fixture.rack
      .requests()
      .filter((entry) => entry.method === 'POST')
      .map((entry) => entry.route);
    expect(steps).toEqual(['POST /apps/{app}/objects/{key:.*}', 'POST /apps/{app}/builds', 'POST /apps/{app}/releases/{id}/promote']);
  });

  it('tells the webhook of each request, decision and deploy once, though the receiver fails twice first', async () => {
    const ci = await ciToken();
    const admin = await person('admin');
    const gitCommit = nextCommit();
    const isThis = (delivery: { body: Record<string, unknown> }) => (delivery.body.fields as Record<string, string>).Commit === gitCommit;
    for (const event of ['deploy-approval.requested', 'deploy-approval.approved', 'deploy-approval.deployed'])
      receiver.refusedTwice.add(event);

    const approval = await approved(ci, admin, 'myapp', gitCommit);
    const { releaseId } = await uploadedAndBuilt(ci, 'tmp/notified.tgz');
    expect((await call('POST', `/apps/myapp/releases/${releaseId}/promote`, ci)).status).toBe(200);

    const delivered = () => receiver.received.filter((delivery) => isThis(delivery) && delivery.status === 200);
    await eventually(() => delivered().length === 3, 30_000);
    expect(delivered().map((delivery) => delivery.body.event)).toEqual([
      'deploy-approval.requested',
      'deploy-approval.approved',
      'deploy-approval.deployed',
    ]);
    expect(delivered()[1].body).toMatchObject({
      text: `${admin.email} approved the deploy of myapp at ${gitCommit.slice(0, 12)}`,
      url: `${fixture.gateway.url}/ui/deploy-approvals/${approval.id}`,
    });
    // Each was refused twice, then delivered once, under one delivery id.
    for (const notice of delivered()) {
      expect(receiver.received.filter((delivery) => delivery.id === notice.id).map((delivery) => delivery.status)).toEqual([500, 500, 200]);
    }
    expect(fixture.gateway.logs.text()).not.toContain('approvals-secret');
  }, 60_000);

  it('is held to its order by the database itself, whatever the application asks of it', async () => {
    const ci = await ciToken();
    const approval = await approved(ci, await person('admin'));
    const database = fixture.gateway.app.get(DataSource);
    const attempt = (sql: string) => database.query(sql, [approval.id]);

    await expect(attempt(`UPDATE deploy_approval_requests SET progress = 'building' WHERE id = $1`)).rejects.toThrow(
      'step building cannot follow approved',
    );
    await expect(attempt(`UPDATE deploy_approval_requests SET build_id = 'BFORGED' WHERE id = $1`)).rejects.toThrow(
      'its build is already fixed',
    );
    await expect(attempt(`UPDATE deploy_approval_requests SET git_commit = 'abcdef0' WHERE id = $1`)).rejects.toThrow(
      'what was asked for cannot change',
    );
    await expect(attempt(`UPDATE deploy_approval_requests SET status = 'pending', progress = NULL WHERE id = $1`)).rejects.toThrow(
      'approved cannot become pending',
    );
    expect((await upload(ci, 'tmp/ordered.tgz')).status).toBe(200);
    await expect(attempt(`UPDATE deploy_approval_requests SET object_key = 'tmp/other.tgz' WHERE id = $1`)).rejects.toThrow(
      'its upload is already fixed',
    );
    await expect(attempt(`UPDATE deploy_approval_requests SET progress = 'promoting' WHERE id = $1`)).rejects.toThrow(
      'step promoting cannot follow uploaded',
    );
    expect(await view(ci, approval.id)).toMatchObject({ progress: 'uploaded', objectUrl: 'object://myapp/tmp/ordered.tgz' });
  });

  it('of two promotes at once under one approval, exactly one reaches the rack', async () => {
    const ci = await ciToken();
    const approval = await approved(ci, await person('admin'));
    const { releaseId } = await uploadedAndBuilt(ci, 'tmp/race.tgz');
    fixture.rack.clearRequests();

    const answers = await Promise.all([1, 2, 3].map(() => call('POST', `/apps/myapp/releases/${releaseId}/promote`, ci)));
    expect(answers.map((answer) => answer.status).sort()).toEqual([200, 409, 409]);
    expect(fixture.rack.requests().filter((entry) => entry.route === 'POST /apps/{app}/releases/{id}/promote')).toHaveLength(1);
    expect((await view(ci, approval.id)).status).toBe('deployed');
  });

  it('gives a step back when the rack refuses it, so the token may try again', async () => {
    const ci = await ciToken();
    await approved(ci, await person('admin'));
    fixture.rack.injectFault({ method: 'POST', path: '/apps/{app}/objects/{key:.*}', status: 500, body: 'storage unavailable', times: 1 });
    expect((await upload(ci, 'tmp/flaky.tgz')).status).toBe(500);
    fixture.rack.clearFaults();
    expect((await upload(ci, 'tmp/flaky.tgz')).status).toBe(200);
  });

  it('reads the rack’s record of the build as hostile: one that is not JSON is a 502, and takes no step', async () => {
    const ci = await ciToken();
    const approval = await approved(ci, await person('admin'));
    const { buildId, releaseId } = await uploadedAndBuilt(ci, 'tmp/garbled.tgz');
    fixture.rack.injectFault({ method: 'GET', path: '/apps/{app}/builds/{id}', status: 200, times: 1 });
    const garbled = await call('POST', `/apps/myapp/releases/${releaseId}/promote`, ci);
    expect(garbled.status).toBe(502);
    expect(await garbled.text()).toBe(`could not read build ${buildId} from the rack\n`);
    expect(await view(ci, approval.id)).toMatchObject({ progress: 'built', releaseId: null });
    expect((await call('POST', `/apps/myapp/releases/${releaseId}/promote`, ci)).status).toBe(200);
  });

  it('keeps duties apart: neither the requester nor the token’s owner approves', async () => {
    const owner = await person('admin');
    const created = await call('POST', '/api/v1/tokens', owner.token, {
      json: { name: 'pipeline', role: 'cicd' },
      headers: { 'x-mfa-totp': owner.app.codeAt((now += STEP_MS)) },
    });
    expect(created.status).toBe(201);
    const { id: tokenId } = (await created.json()) as { id: string };
    const request = await ask(owner.token, { app: 'myapp', gitCommit: nextCommit(), tokenId });

    const own = await decide(owner, request.id, 'approve');
    expect(own.status).toBe(403);
    expect(await own.json()).toMatchObject({ code: 'separation_of_duties' });
    expect((await decide(await person('admin'), request.id, 'approve')).status).toBe(200);
  });

  it('waits for every approver an app’s policy asks for, each counted once', async () => {
    const ci = await ciToken();
    const [first, second] = [await person('admin'), await person('admin')];
    const request = await ask(ci, { app: 'otherapp', gitCommit: nextCommit() });
    expect(request.approvalsRequired).toBe(2);

    expect(await (await decide(first, request.id, 'approve')).json()).toMatchObject({ status: 'pending' });
    const twice = await decide(first, request.id, 'approve');
    expect(twice.status).toBe(409);
    expect((await upload(ci, 'tmp/early.tgz', 'otherapp')).status).toBe(403);
    expect(await (await decide(second, request.id, 'approve')).json()).toMatchObject({ status: 'approved' });
    expect((await upload(ci, 'tmp/now.tgz', 'otherapp')).status).toBe(200);
  });

  it('refuses every step once the window has passed, until an approver extends it', async () => {
    const ci = await ciToken();
    const admin = await person('admin');
    const approval = await approved(ci, admin);
    now += WINDOW_MS + 1_000;
    const late = await upload(ci, 'tmp/late.tgz');
    expect(late.status).toBe(403);
    expect(await late.text()).toContain(`the approval of request ${approval.id} has expired`);
    expect((await view(ci, approval.id)).status).toBe('expired');

    const extender = await person('admin');
    const another = await approved(ci, admin);
    now += WINDOW_MS - 60_000;
    expect((await decide(extender, another.id, 'extend')).status).toBe(200);
    now += 120_000;
    expect((await upload(ci, 'tmp/extended.tgz')).status).toBe(200);
  });

  it('expires a request whose step was abandoned mid-flight an hour past its window, recording a promote the rack carried out', async () => {
    const database = fixture.gateway.app.get(DataSource);
    const sweep = () => fixture.gateway.app.get(DeployApprovals).expireOverdue();
    const status = async (id: string) =>
      (
        await database.query<Array<{ status: string; progress: string }>>(
          `SELECT status, progress FROM deploy_approval_requests WHERE id = $1`,
          [id],
        )
      )[0];
    const admin = await person('admin');

    // An upload whose gateway died before the rack answered: in flight, and never settled.
    const ci = await ciToken();
    const gitCommit = nextCommit();
    const lost = await approved(ci, admin, 'myapp', gitCommit);
    await database.query(`UPDATE deploy_approval_requests SET progress = 'uploading', object_key = 'tmp/lost.tgz' WHERE id = $1`, [
      lost.id,
    ]);
    now += WINDOW_MS + 1_000;
    await sweep();
    // Past its window, a step in flight may yet finish: the request stays open, and the commit taken.
    expect(await status(lost.id)).toEqual({ status: 'approved', progress: 'uploading' });
    expect((await call('POST', '/api/v1/deploy-approval-requests', ci, { json: { app: 'myapp', gitCommit } })).status).toBe(409);
    now += 60 * 60_000;
    await sweep();
    expect(await status(lost.id)).toEqual({ status: 'expired', progress: 'uploading' });
    expect((await ask(ci, { app: 'myapp', gitCommit })).status).toBe('pending');

    // A promote whose gateway died after forwarding it: the rack carried it out, so the deploy happened.
    const deployer = await ciToken();
    const promoted = await approved(deployer, admin);
    const { releaseId } = await uploadedAndBuilt(deployer, 'tmp/abandoned.tgz');
    await database.query(`UPDATE deploy_approval_requests SET progress = 'released', release_id = $2 WHERE id = $1`, [
      promoted.id,
      releaseId,
    ]);
    await database.query(`UPDATE deploy_approval_requests SET progress = 'promoting' WHERE id = $1`, [promoted.id]);
    const atRack = await fetch(`${fixture.rack.url}/apps/myapp/releases/${releaseId}/promote`, {
      method: 'POST',
      headers: { authorization: basicAuth(fixture.rack.password) },
    });
    expect(atRack.status).toBe(200);
    now += WINDOW_MS + 60 * 60_000 + 1_000;
    await sweep();
    expect(await status(promoted.id)).toEqual({ status: 'deployed', progress: 'deployed' });
  });

  it('a rejected request unlocks nothing; a pending one expires after DEPLOY_APPROVAL_PENDING_MINUTES', async () => {
    const ci = await ciToken();
    const admin = await person('admin');
    const rejected = await ask(ci, { app: 'myapp', gitCommit: nextCommit() });
    expect(await (await decide(admin, rejected.id, 'reject')).json()).toMatchObject({ status: 'rejected' });
    expect((await upload(ci, 'tmp/rejected.tgz')).status).toBe(403);

    const stale = await ask(ci, { app: 'myapp', gitCommit: nextCommit() });
    now += 61 * 60_000;
    const listed = (await (await call('GET', '/api/v1/deploy-approval-requests?status=expired&app=myapp', ci)).json()) as {
      items: ApprovalView[];
    };
    expect(listed.items.map((item) => item.id)).toContain(stale.id);
    const late = await decide(admin, stale.id, 'approve');
    expect(late.status).toBe(409);
  });

  it('answers a long-poll as soon as the request is decided', async () => {
    const ci = await ciToken();
    const admin = await person('admin');
    const request = await ask(ci, { app: 'myapp', gitCommit: nextCommit() });
    const waiting = call('GET', `/api/v1/deploy-approval-requests/${request.id}/wait?timeout=20`, ci);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const startedAt = Date.now();
    expect((await decide(admin, request.id, 'approve')).status).toBe(200);
    const answer = await waiting;
    expect(await answer.json()).toMatchObject({ id: request.id, status: 'approved' });
    expect(Date.now() - startedAt).toBeLessThan(5_000);
  });

  it('under an approval, runs and execs only allowlisted commands against the approved release', async () => {
    const ci = await ciToken();
    await approved(ci, await person('admin'));
    const { releaseId } = await uploadedAndBuilt(ci, 'tmp/run.tgz');
    // The release is fixed by the first promote; before it, there is nothing to run against.
    const early = await call('POST', '/apps/myapp/services/web/processes', ci, { headers: { command: 'bin/migrate', release: releaseId } });
    expect(early.status).toBe(403);
    expect((await call('POST', `/apps/myapp/releases/${releaseId}/promote`, ci)).status).toBe(200);

    const run = (command: string, release: string, query = '') =>
      call('POST', `/apps/myapp/services/web/processes${query}`, ci, { headers: { command, release } });
    expect((await run('bin/migrate', releaseId)).status).toBe(200);
    const other = await run('rm -rf /', releaseId);
    expect(other.status).toBe(403);
    expect(await other.text()).toContain('may run only its allowlisted commands (bin/migrate, echo approved)');
    expect((await run('bin/migrate', 'RSEEDOLD')).status).toBe(403);
    expect((await run('bin/migrate', releaseId, '?command=sh')).status).toBe(400);

    const processes = (await (await call('GET', '/apps/myapp/processes', ci)).json()) as Array<{ id: string; release: string }>;
    const running = processes.find((process) => process.release === releaseId);
    expect(running).toBeDefined();
    const exec = async (command: string) => {
      const socket = await RackSocket.open(url(`/apps/myapp/processes/${running?.id}/exec`), { authorization: basicAuth(ci), command });
      await socket.untilEnd(5_000);
      socket.close();
      return socket.output().toString('latin1');
    };
    expect(await exec('sh')).toContain('may run only its allowlisted commands');
    expect(await exec('echo approved')).toBe('approved\nF1E49A85-0AD7-4AEF-A618-C249C6E6568D:0\n');
  });
});

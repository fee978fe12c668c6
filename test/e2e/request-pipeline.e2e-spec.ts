import { CanActivate, ExecutionContext, ForbiddenException, Injectable, Module, type DynamicModule } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import type { PipelineRequest } from '../../src/common/pipeline-request';
import { MockRack, startMockRack } from '../support/mock-rack';
import { TestGateway, basicAuth, startTestGateway, firstProcessId } from '../support/test-gateway';
import { RackSocket } from '../support/websocket-client';

/** What a stage saw of a request: which earlier stages had already run, and what they decided. */
interface Sighting {
  readonly method: string;
  readonly path: string | undefined;
  readonly principal: string | undefined;
  readonly route: string | undefined;
}

/** A stage as a module would add one: registered once, as an APP_GUARD. Refuses requests asking it to. */
@Injectable()
class RecordingStage implements CanActivate {
  static readonly sightings: Sighting[] = [];

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<PipelineRequest>();
    RecordingStage.sightings.push({
      method: request.method,
      path: request.rackTarget?.path,
      principal: request.principal?.user.email,
      route: request.rackDecision ? `${request.rackDecision.route.method} ${request.rackDecision.route.path}` : undefined,
    });
    if (request.headers['x-stage-refuses'] === 'yes') throw new ForbiddenException({ message: 'refused by the recording stage' });
    return true;
  }
}

@Module({ providers: [RecordingStage, { provide: APP_GUARD, useExisting: RecordingStage }] })
class RecordingStageModule {}

/**
 * One pipeline decides every rack exchange: a stage registered once meets HTTP requests and websocket
 * upgrades alike, at the same place in the chain, before the rack is contacted.
 */
describe('the request pipeline', () => {
  let rack: MockRack;
  let gateway: TestGateway;
  let ops: string;
  let pid: string;

  beforeAll(async () => {
    rack = await startMockRack();
    gateway = await startTestGateway({
      rackUrl: rack.url,
      rackToken: rack.password,
      wrapModule: (appModule: DynamicModule) => ({ module: RecordingStageModule, imports: [appModule] }),
    });
    ({ token: ops } = await gateway.createUserWithToken('ops@example.com', 'ops'));
    pid = await firstProcessId(gateway.url, ops);
  });

  afterAll(async () => {
    await gateway.close();
    await rack.close();
  });

  beforeEach(() => {
    rack.reset();
    RecordingStage.sightings.length = 0;
  });

  it('runs an added stage for an HTTP request and a websocket upgrade at the same place in the chain', async () => {
    const http = await fetch(`${gateway.url}/apps/myapp/processes/${pid}`, { headers: { authorization: basicAuth(ops) } });
    expect(http.status).toBe(200);
    const socket = await RackSocket.open(`${gateway.url}/apps/myapp/processes/${pid}/logs`, {
      authorization: basicAuth(ops),
      follow: 'false',
    });
    await socket.untilEnd();
    socket.close();

    const [seenOverHttp, seenOverWebsocket] = RecordingStage.sightings;
    expect(RecordingStage.sightings).toHaveLength(2);
    expect(seenOverHttp.method).toBe('GET');
    expect(seenOverWebsocket.method).toBe('SOCKET');
    // Whatever ran before the stage ran before it on both paths.
    const before = (sighting: Sighting) => ({
      parsed: sighting.path !== undefined,
      authenticated: sighting.principal !== undefined,
      decided: sighting.route !== undefined,
    });
    expect(before(seenOverWebsocket)).toEqual(before(seenOverHttp));
  });

  it('stops both an HTTP request and a websocket upgrade before the rack hears of them when the stage refuses', async () => {
    const http = await fetch(`${gateway.url}/apps/myapp/processes/${pid}`, {
      headers: { authorization: basicAuth(ops), 'x-stage-refuses': 'yes' },
    });
    expect(http.status).toBe(403);
    expect(await http.text()).toBe('refused by the recording stage\n');

    const socket = await RackSocket.open(`${gateway.url}/apps/myapp/processes/${pid}/exec`, {
      authorization: basicAuth(ops),
      command: 'echo hi',
      'x-stage-refuses': 'yes',
    });
    const frames = await socket.untilEnd();
    socket.close();
    expect(frames[0].data.toString()).toBe('ERROR: refused by the recording stage\n');
    expect(RecordingStage.sightings.map((sighting) => sighting.method)).toEqual(['GET', 'SOCKET']);
    expect(rack.requests()).toEqual([]);
  });

  it('gives websocket upgrades the same built-in stages: an unreadable target is refused before authentication', async () => {
    const socket = await RackSocket.open(`${gateway.url}/apps/myapp/processes/${pid}%2Fexec`, { command: 'ls' });
    const frames = await socket.untilEnd();
    socket.close();
    expect(frames[0].data.toString()).toBe(
      'ERROR: invalid request target: the path holds an encoded character the gateway does not accept\n',
    );
    expect(rack.requests()).toEqual([]);
  });
});

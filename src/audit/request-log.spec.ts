import type { AuditRecord } from './audit-record';
import { requestLogLine } from './request-log';

const exchange: AuditRecord = {
  id: '7f3c3c5e-4f0a-4a8e-9d0e-3b7b4f6c1a11',
  occurredAt: new Date('2026-12-02T12:00:00Z'),
  kind: 'rack.exchange',
  requestId: 'r-1',
  actorEmail: 'ops@example.com',
  actorTokenId: '0b7f1d5e-2f5e-4c1b-8a55-6f7f5a0b9c22',
  clientIp: '10.0.0.7',
  userAgent: 'convox/3.12.3',
  method: 'GET',
  path: '/apps/myapp/processes',
  route: 'GET /apps/{app}/processes',
  action: 'read',
  subject: 'processes',
  app: 'myapp',
  decision: 'allowed',
  reason: null,
  status: 200,
  durationMs: 12,
  bytesIn: 0,
  bytesOut: 2048,
  details: { queryKeys: ['service'], transport: 'http', completed: true, count: 3, mfa: { enrolled: true, level: 'none' } },
};

describe('requestLogLine', () => {
  it('says who asked what, how it ended and how long it took, and a folded read’s count', () => {
    expect(requestLogLine(exchange)).toEqual({
      msg: 'request',
      event: 'rack.exchange',
      requestId: 'r-1',
      method: 'GET',
      route: 'GET /apps/{app}/processes',
      path: '/apps/myapp/processes',
      status: 200,
      durationMs: 12,
      actor: 'ops@example.com',
      app: 'myapp',
      decision: 'allowed',
      clientIp: '10.0.0.7',
      bytesIn: 0,
      bytesOut: 2048,
      count: 3,
    });
  });

  it('gives a refusal’s reason', () => {
    expect(
      requestLogLine({
        ...exchange,
        kind: 'request.refused',
        decision: 'denied',
        reason: 'invalid authentication',
        status: 401,
        bytesIn: null,
      }),
    ).toMatchObject({ event: 'request.refused', status: 401, reason: 'invalid authentication' });
  });

  it('writes no line for an intent, whose outcome has one, nor for what happens to second factors', () => {
    expect(requestLogLine({ ...exchange, kind: 'rack.intent' })).toBeUndefined();
    expect(requestLogLine({ ...exchange, kind: 'mfa.verified' })).toBeUndefined();
  });
});

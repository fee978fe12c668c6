import { RequestTally, decisionOf } from './request-tally';

describe('RequestTally', () => {
  it('counts each combination of route class, decision and status apart', () => {
    const tally = new RequestTally();
    tally.add('read', 'allowed', 200);
    tally.add('read', 'allowed', 200);
    tally.add('read', 'allowed', 404);
    tally.add('write', 'denied', 403);
    expect([...tally.entries()]).toEqual([
      { routeClass: 'read', decision: 'allowed', status: 200, count: 2 },
      { routeClass: 'read', decision: 'allowed', status: 404, count: 1 },
      { routeClass: 'write', decision: 'denied', status: 403, count: 1 },
    ]);
  });
});

describe('decisionOf', () => {
  it.each([
    [200, 'allowed'],
    [302, 'allowed'],
    [400, 'invalid'],
    [401, 'unauthenticated'],
    [403, 'denied'],
    [404, 'invalid'],
    [429, 'rate_limited'],
    [500, 'error'],
    [503, 'unavailable'],
  ])('reads %i as %s', (status, decision) => {
    expect(decisionOf(status)).toBe(decision);
  });
});

import { prepareRackRequestHeaders, stripRackResponseHeaders } from './rack-headers';

const rackAuthorization = 'Basic cmFjaw==';

describe('prepareRackRequestHeaders', () => {
  it('replaces client credentials with the rack credentials and sets the actor', () => {
    const headers = {
      authorization: 'Basic Y29udm94OnJnd190b2tlbg==',
      cookie: 'rgw_session=abc',
      'x-convox-actor': 'mallory',
      'convox-actor': 'mallory',
      'convox-tid': 'other-tenant',
      'x-convox-tid': 'other-tenant',
      origin: 'https://evil.example',
      accept: '*/*',
    };
    prepareRackRequestHeaders(headers, { authorization: rackAuthorization, actor: 'dev@example.com', upgrade: false });
    expect(headers).toEqual({ authorization: rackAuthorization, 'convox-actor': 'dev@example.com', accept: '*/*' });
  });

  it('drops hop-by-hop headers and every header Connection names', () => {
    const headers: Record<string, string> = {
      connection: 'close, X-Secret-Hop',
      'x-secret-hop': '1',
      'keep-alive': 'timeout=5',
      te: 'trailers',
      expect: '100-continue',
      'content-length': '3',
    };
    prepareRackRequestHeaders(headers, { authorization: rackAuthorization, actor: 'a@example.com', upgrade: false });
    expect(Object.keys(headers).sort()).toEqual(['authorization', 'content-length', 'convox-actor']);
  });

  it('still sets the rack credentials and actor when Connection names those headers', () => {
    const headers: Record<string, string> = {
      connection: 'Authorization, Convox-Actor',
      authorization: 'Basic Y2xpZW50',
      'convox-actor': 'x',
    };
    prepareRackRequestHeaders(headers, { authorization: rackAuthorization, actor: 'a@example.com', upgrade: false });
    expect(headers).toEqual({ authorization: rackAuthorization, 'convox-actor': 'a@example.com' });
  });

  it('never lets Connection remove the framing, the body type or the host', () => {
    const headers: Record<string, string> = {
      connection: 'Content-Length, transfer-encoding, content-type, host, x-hop',
      'content-length': '3',
      'transfer-encoding': 'chunked',
      'content-type': 'application/x-www-form-urlencoded',
      host: 'gateway',
      'x-hop': '1',
    };
    prepareRackRequestHeaders(headers, { authorization: rackAuthorization, actor: 'a@example.com', upgrade: false });
    expect(Object.keys(headers).sort()).toEqual([
      'authorization',
      'content-length',
      'content-type',
      'convox-actor',
      'host',
      'transfer-encoding',
    ]);
  });

  it('drops claims about the client the gateway has not checked, and method overrides', () => {
    const headers: Record<string, string> = {
      'x-forwarded-for': '10.0.0.1',
      'x-forwarded-host': 'evil.example',
      'x-forwarded-anything': '1',
      forwarded: 'for=10.0.0.1',
      'x-real-ip': '10.0.0.1',
      'x-client-ip': '10.0.0.1',
      'x-http-method-override': 'DELETE',
      'x-method-override': 'DELETE',
      'x-http-method': 'DELETE',
      'http2-settings': 'AAMAAABkAAQAAP__',
      accept: '*/*',
    };
    prepareRackRequestHeaders(headers, { authorization: rackAuthorization, actor: 'a@example.com', upgrade: false });
    expect(headers).toEqual({ accept: '*/*', authorization: rackAuthorization, 'convox-actor': 'a@example.com' });
  });

  it('keeps the upgrade handshake headers on a websocket', () => {
    const headers: Record<string, string> = {
      connection: 'Upgrade',
      upgrade: 'websocket',
      'sec-websocket-key': 'k',
      'sec-websocket-version': '13',
      origin: 'https://gateway.example',
    };
    prepareRackRequestHeaders(headers, { authorization: rackAuthorization, actor: 'a@example.com', upgrade: true });
    expect(headers).toMatchObject({ connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-key': 'k' });
    expect(headers.origin).toBeUndefined();
  });
});

describe('stripRackResponseHeaders', () => {
  it("drops the rack connection's hop-by-hop headers and keeps the answer's own", () => {
    const headers: Record<string, string> = {
      'keep-alive': 'timeout=5',
      'proxy-authenticate': 'Basic',
      upgrade: 'h2c',
      'content-type': 'application/json',
      'content-length': '2',
    };
    stripRackResponseHeaders(headers);
    expect(headers).toEqual({ 'content-type': 'application/json', 'content-length': '2' });
  });

  it("drops the rack's Strict-Transport-Security, which is its host's policy, not the gateway's", () => {
    const headers: Record<string, string> = { 'strict-transport-security': 'max-age=0', 'content-type': 'text/plain' };
    stripRackResponseHeaders(headers);
    expect(headers).toEqual({ 'content-type': 'text/plain' });
  });
});

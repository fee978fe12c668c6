import { rackRequestTargetUrl, readRackRequest, readRackRequestTarget } from './rack-request-target';

describe('readRackRequestTarget', () => {
  it.each([
    ['/apps', '/apps', null],
    ['/apps?', '/apps', ''],
    ['/apps/my%61pp/releases?limit=1', '/apps/myapp/releases', 'limit=1'],
    ['/v2/', '/v2/', null],
    ["/apps/myapp/objects/tmp/a;b=c,d'e@f:g.tgz", "/apps/myapp/objects/tmp/a;b=c,d'e@f:g.tgz", null],
    ['/v2/web/blobs/sha256:0a1b', '/v2/web/blobs/sha256:0a1b', null],
    ['/apps/x?file=/etc/%2F&b=\\', '/apps/x', 'file=/etc/%2F&b=\\'],
  ])('reads %s as the path the rack routes', (url, path, query) => {
    expect(readRackRequestTarget(url)).toEqual({ ok: true, target: { path, query } });
  });

  it.each([
    ['http://rack/apps', 'must be an absolute path'],
    ['*', 'must be an absolute path'],
    ['/apps/a\\exec', 'character'],
    ['/apps/a#/logs', 'character'],
    ['/apps/ä', 'character'],
    ['/apps/a b', 'character'],
    ['/apps/a%2Fb', 'encoded character'],
    ['/apps/a%5Cb', 'encoded character'],
    ['/apps/a%25', 'encoded character'],
    ['/apps/a%3F', 'encoded character'],
    ['/apps/a%23', 'encoded character'],
    ['/apps/a%00', 'encoded character'],
    ['/apps/a%C3%A4', 'encoded character'],
    ['/apps/a%2', 'malformed percent-escape'],
    ['/apps/a%zz', 'malformed percent-escape'],
    ['/apps//a', 'empty segment'],
    ['//apps', 'empty segment'],
    ['/apps/../system', 'dot segment'],
    ['/apps/%2e%2e/system', 'dot segment'],
    ['/apps/.', 'dot segment'],
    ['/apps/a/objects/http:/x', 'URL scheme'],
    ['/apps?a=#b', 'query'],
    ['/apps?a=\u0000', 'query'],
  ])('refuses %s (%s)', (url, reason) => {
    const reading = readRackRequestTarget(url);
    expect(reading.ok).toBe(false);
    expect(reading.ok ? '' : reading.reason).toContain(reason);
  });

  it('forwards the decoded path under the rack base path, with the query as received', () => {
    expect(rackRequestTargetUrl({ path: '/apps', query: '' }, '')).toBe('/apps?');
    expect(rackRequestTargetUrl({ path: '/apps', query: null }, '/rack')).toBe('/rack/apps');
  });
});

describe('readRackRequest framing', () => {
  it('accepts Content-Length framing and plain chunked bodies', () => {
    expect(readRackRequest('POST', '/apps', { 'content-length': '3' }).ok).toBe(true);
    expect(readRackRequest('POST', '/apps', { 'transfer-encoding': 'Chunked' }).ok).toBe(true);
    expect(readRackRequest('DELETE', '/apps/a', { 'content-length': '3' }).ok).toBe(true);
  });

  it.each([
    ['POST', 'gzip, chunked', 'unsupported Transfer-Encoding'],
    ['POST', 'chunked, chunked', 'unsupported Transfer-Encoding'],
    ['DELETE', 'chunked', 'must declare its Content-Length'],
    ['OPTIONS', 'chunked', 'must declare its Content-Length'],
  ])('refuses a %s with Transfer-Encoding %s', (method, transferEncoding, reason) => {
    const reading = readRackRequest(method, '/check', { 'transfer-encoding': transferEncoding });
    expect(reading.ok ? '' : reading.reason).toContain(reason);
  });
});

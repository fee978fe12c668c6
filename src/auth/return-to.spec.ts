import { DEFAULT_RETURN_TO, safeReturnTo } from './return-to';

describe('safeReturnTo', () => {
  it.each(['/ui/', '/api/v1/me', '/ui/tokens?tab=mine#new'])('honours the local path %s', (path) => {
    expect(safeReturnTo(path)).toBe(path);
  });

  it.each([
    'https://evil.example/',
    '//evil.example/',
    '/\\evil.example/',
    '\\\\evil.example',
    'javascript:alert(1)',
    '/ui/\r\nSet-Cookie: x=1',
    'ui/relative',
    '',
    undefined,
    ['/ui/'],
    `/${'a'.repeat(3000)}`,
  ])('refuses %p', (candidate) => {
    expect(safeReturnTo(candidate)).toBe(DEFAULT_RETURN_TO);
  });
});

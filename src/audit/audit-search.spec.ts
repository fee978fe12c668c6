import { SEARCH_PATTERN, wordPrefixQuery } from './audit-search';

describe('wordPrefixQuery', () => {
  it('asks for every word as the start of a word, lower-cased', () => {
    expect(wordPrefixQuery('Restart web')).toBe(`'restart':* & 'web':*`);
  });

  it('splits on punctuation as the stored words are split', () => {
    expect(wordPrefixQuery('ops@example.com')).toBe(`'ops':* & 'example':* & 'com':*`);
    expect(wordPrefixQuery('/apps/my-app/releases')).toBe(`'apps':* & 'my':* & 'app':* & 'releases':*`);
    expect(wordPrefixQuery('DB_PASSWORD')).toBe(`'db':* & 'password':*`);
  });

  it('keeps letters of any script and digits, and nothing that could break out of a quoted lexeme', () => {
    expect(wordPrefixQuery(`straße 42 it's a:* | !x`)).toBe(`'straße':* & '42':* & 'it':* & 's':* & 'a':* & 'x':*`);
  });

  it('asks for each word once, and for no more than eight', () => {
    expect(wordPrefixQuery('a a b')).toBe(`'a':* & 'b':*`);
    expect(wordPrefixQuery('1 2 3 4 5 6 7 8 9')?.split(' & ')).toHaveLength(8);
  });

  it('has nothing to ask without a word', () => {
    expect(wordPrefixQuery(' *** -- ')).toBeUndefined();
  });
});

describe('SEARCH_PATTERN', () => {
  it.each(['migrate', ' ops@example.com ', 'a b c d e f g h', 'DB_PASSWORD=x'])('accepts %p', (text) => {
    expect(SEARCH_PATTERN.test(text)).toBe(true);
  });

  it.each(['', '***', 'a b c d e f g h i'])('refuses %p', (text) => {
    expect(SEARCH_PATTERN.test(text)).toBe(false);
  });
});

import { exceedsNestingDepth } from './json-depth';

const arrays = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;
const objects = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;

describe('exceedsNestingDepth', () => {
  it('allows nesting exactly at the limit and refuses one level more', () => {
    expect(exceedsNestingDepth(arrays(4), 4)).toBe(false);
    expect(exceedsNestingDepth(arrays(5), 4)).toBe(true);
    expect(exceedsNestingDepth(objects(4), 4)).toBe(false);
    expect(exceedsNestingDepth(objects(5), 4)).toBe(true);
    expect(exceedsNestingDepth('[{"a":[{"b":1}]}]', 4)).toBe(false);
    expect(exceedsNestingDepth('[{"a":[{"b":[]}]}]', 4)).toBe(true);
  });

  it('counts depth, not how many containers there are', () => {
    const wide = `[${Array.from({ length: 1000 }, () => '{"a":[1]}').join(',')}]`;
    expect(exceedsNestingDepth(wide, 3)).toBe(false);
    expect(exceedsNestingDepth(`[${arrays(2)},${arrays(2)},${arrays(3)}]`, 3)).toBe(true);
  });

  it('treats scalars and empty text as depth zero', () => {
    expect(exceedsNestingDepth('', 0)).toBe(false);
    expect(exceedsNestingDepth('"text"', 0)).toBe(false);
    expect(exceedsNestingDepth('42', 0)).toBe(false);
    expect(exceedsNestingDepth('[]', 0)).toBe(true);
  });

  it('ignores brackets inside strings', () => {
    expect(exceedsNestingDepth(`{"name": "${'[{'.repeat(100)}"}`, 1)).toBe(false);
    expect(exceedsNestingDepth(`["${']}'.repeat(100)}", ${arrays(2)}]`, 2)).toBe(true);
  });

  it('keeps a string open across escaped quotes and backslashes', () => {
    // The string is `a"[[[`: the escaped quote does not end it, so its brackets do not count.
    expect(exceedsNestingDepth(String.raw`{"k": "a\"[[["}`, 1)).toBe(false);
    // The string is `a\`: the escaped backslash does not escape the closing quote, so the brackets count.
    expect(exceedsNestingDepth(String.raw`["a\\", [[]]]`, 2)).toBe(true);
    expect(exceedsNestingDepth(String.raw`["a\\\"[[", []]`, 2)).toBe(false);
    expect(exceedsNestingDepth(String.raw`["\u005b", "\\", "\"", []]`, 2)).toBe(false);
  });

  it('refuses over-deep text even when the rest is not JSON at all', () => {
    expect(exceedsNestingDepth(`${'['.repeat(33)}not json at all`, 32)).toBe(true);
  });

  it('scans a 100,000-level document in one linear pass', () => {
    const deep = arrays(100_000);
    const started = performance.now();
    expect(exceedsNestingDepth(deep, 100_000)).toBe(false);
    expect(exceedsNestingDepth(deep, 99_999)).toBe(true);
    expect(performance.now() - started).toBeLessThan(1_000);
  });
});

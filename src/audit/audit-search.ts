/** Words of a search used at most: each one is an index lookup. */
export const MAX_SEARCH_WORDS = 8;

/** A search of at most MAX_SEARCH_WORDS words, for validation: letters and digits; anything else separates them. */
export const SEARCH_PATTERN = new RegExp(`^[^\\p{L}\\p{N}]*(?:[\\p{L}\\p{N}]+[^\\p{L}\\p{N}]*){1,${MAX_SEARCH_WORDS}}$`, 'u');

/**
 * A free-text search as a Postgres tsquery: every word must begin a word of the event. Words are split
 * as the stored words are (audit_event_words: anything but a letter or digit separates), so
 * `ops@example.com` finds that address and `DB_PASSWORD` the key, whatever the punctuation around them.
 * Undefined when the text has no word. The words are letters and digits only, so quoting them is safe.
 */
export function wordPrefixQuery(text: string): string | undefined {
  const words = text.toLowerCase().match(/[\p{L}\p{N}]+/gu);
  if (!words) return undefined;
  return [...new Set(words)]
    .slice(0, MAX_SEARCH_WORDS)
    .map((word) => `'${word}':*`)
    .join(' & ');
}

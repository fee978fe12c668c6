/** The value of a form field in a page, as the browser would post it. */
export function fieldOf(page: string, name: string): string {
  const match = new RegExp(`name="${name}" value="([^"]*)"`).exec(page);
  if (!match) throw new Error(`no ${name} field in:\n${page}`);
  return decodeEntities(match[1]);
}

export function decodeEntities(text: string): string {
  return text.replace(
    /&(amp|lt|gt|quot|#39);/g,
    (_, entity: string) => ({ amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'" })[entity] ?? '',
  );
}

/** The hidden fields of the page's form posting to `action`, as the browser would send them. */
export function hiddenFieldsOf(page: string, action: string): Record<string, string> {
  const form = page.slice(page.indexOf(`action="${action}"`));
  return Object.fromEntries(
    ['_csrf', 'return_to', 'id'].filter((name) => form.includes(`name="${name}"`)).map((name) => [name, fieldOf(form, name)]),
  );
}

/** Markup that is safe to put in a page as it is; `html` makes it, having escaped what it was given. */
export class SafeHtml {
  constructor(readonly text: string) {}

  toString(): string {
    return this.text;
  }
}

/** What a page template may interpolate: text (escaped), markup already made safe, or nothing. */
export type HtmlValue = string | number | SafeHtml | readonly SafeHtml[] | null | undefined | false;

const ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for an element's content or a quoted attribute value. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => ESCAPES[character]);
}

/**
 * A tagged template for the gateway's pages: every interpolated value is escaped unless it is markup
 * this function made. Attribute values must be quoted in the template. URLs put in `href` or `src` must
 * be checked by the caller (a `return_to` goes through safeReturnTo), since escaping cannot make a
 * `javascript:` URL harmless.
 */
export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): SafeHtml {
  let text = strings[0];
  values.forEach((value, index) => {
    text += render(value) + strings[index + 1];
  });
  return new SafeHtml(text);
}

function render(value: HtmlValue): string {
  if (value === null || value === undefined || value === false) return '';
  if (value instanceof SafeHtml) return value.text;
  if (Array.isArray(value)) return value.map((item: SafeHtml) => item.text).join('');
  return escapeHtml(String(value));
}

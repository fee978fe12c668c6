import { type SafeHtml, html } from '../../common/html';

export interface LayoutOptions {
  readonly title: string;
  /** For the page's script, which calls the API with it; forms carry their own copy. */
  readonly csrfToken?: string;
  /** Whether the page loads the security-key script. */
  readonly script?: boolean;
}

/**
 * The document around every page: no inline script or style, so the pages' CSP can forbid both. The
 * empty icon keeps browsers from asking /favicon.ico, a rack path, for one on every page.
 */
export function layout({ title, csrfToken, script }: LayoutOptions, content: SafeHtml): string {
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        ${csrfToken === undefined ? null : html`<meta name="csrf-token" content="${csrfToken}" />`}
        <title>${title} · Rack Gateway</title>
        <link rel="icon" href="data:," />
        <link rel="stylesheet" href="/ui/assets/ui.css" />
        ${script ? html`<script src="/ui/assets/mfa.js" defer></script>` : null}
      </head>
      <body>
        <main>${content}</main>
      </body>
    </html>`.text;
}

/** The hidden fields every form posts: the CSRF token, under the name @fastify/csrf-protection reads, and return_to. */
export function formFields(csrfToken: string, returnTo: string): SafeHtml {
  return html`<input type="hidden" name="_csrf" value="${csrfToken}" /><input type="hidden" name="return_to" value="${returnTo}" />`;
}

import { html } from '../html';
import { statusTitle } from './problem-details';

/**
 * The error shape of the gateway's pages under /ui/: a page a person can read, saying what went wrong
 * in the same words problem details would. It needs no script and uses the pages' stylesheet only.
 */
export function errorPage(status: number, message: string, errors: readonly string[] = []): string {
  const title = statusTitle(status);
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${title} · Rack Gateway</title>
        <link rel="icon" href="data:," />
        <link rel="stylesheet" href="/ui/assets/ui.css" />
      </head>
      <body>
        <main>
          <h1>${title}</h1>
          <p role="alert">${message}</p>
          ${
            errors.length > 0
              ? html`<ul>
                  ${errors.map((error) => html`<li>${error}</li>`)}
                </ul>`
              : null
          }
        </main>
      </body>
    </html> `.text;
}

import { accessSync, constants } from 'node:fs';

export type ChromiumLookup = { readonly path: string } | { readonly path: null; readonly reason: string };

/**
 * The Chromium that browser tests drive through playwright-core: Debian's package (`apt-get install
 * chromium`, as .ci/run does), or the one CHROMIUM_BIN names; or why there is none.
 */
export function findChromium(configured = process.env.CHROMIUM_BIN ?? '/usr/bin/chromium'): ChromiumLookup {
  try {
    accessSync(configured, constants.X_OK);
    return { path: configured };
  } catch {
    return { path: null, reason: `no Chromium at ${configured}` };
  }
}

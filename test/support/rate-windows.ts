/** Rate limits count per clock minute (src/rate-limit/window-counters.ts). */
const WINDOW_MS = 60_000;
/** Longer than any one rate-limit test takes. */
const ROOM_NEEDED_MS = 8_000;

/** Waits for the next minute when the current one has too little left for a test to finish inside it. */
export async function startsFreshRateWindow(): Promise<void> {
  const left = WINDOW_MS - (Date.now() % WINDOW_MS);
  if (left < ROOM_NEEDED_MS) await new Promise((resolve) => setTimeout(resolve, left + 50));
}

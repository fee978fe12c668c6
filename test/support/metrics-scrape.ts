// The gateway's /api/v1/metrics, read as Prometheus reads it.

/** The series of one scrape, by name and labels as Prometheus writes them: `name{label="value",…}`. */
export type Scrape = ReadonlyMap<string, number>;

export async function scrape(gatewayUrl: string, headers: Record<string, string> = {}): Promise<Scrape> {
  const response = await fetch(`${gatewayUrl}/api/v1/metrics`, { headers });
  expect(response.status).toBe(200);
  const series = new Map<string, number>();
  for (const line of (await response.text()).split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    series.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return series;
}

export const requests = (routeClass: string, decision: string, status: number) =>
  `rack_gateway_requests_total{route_class="${routeClass}",decision="${decision}",status="${status}"}`;

/** Scrapes until `expected` holds: exchanges are counted when they close, a moment after the client has its answer. */
export async function scrapeUntil(gatewayUrl: string, expected: (scraped: Scrape) => boolean): Promise<Scrape> {
  let scraped = await scrape(gatewayUrl);
  for (let attempt = 0; attempt < 100 && !expected(scraped); attempt += 1) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    scraped = await scrape(gatewayUrl);
  }
  return scraped;
}

/** How much each series grew between two scrapes. */
export function growth(before: Scrape, after: Scrape, name: string): number {
  return (after.get(name) ?? 0) - (before.get(name) ?? 0);
}

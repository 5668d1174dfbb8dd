/** Scraping the server's Prometheus endpoint. */

export interface Scrape {
  text: string;
  bytes: number;
  ms: number;
  /** Sample lines (not # HELP/# TYPE). */
  series: number;
}

export async function scrape(url: string, timeoutMs = 10_000): Promise<Scrape> {
  const t0 = performance.now();
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  const text = await res.text();
  const ms = performance.now() - t0;
  return { text, bytes: Buffer.byteLength(text), ms, series: text.split('\n').filter((l) => l && !l.startsWith('#')).length };
}

/** The value of `name{labels}` (labels matched as a substring), or undefined. */
export function metricValue(text: string, name: string, labelSubstring = ''): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (!(rest.startsWith('{') || rest.startsWith(' '))) continue;
    if (labelSubstring && !rest.includes(labelSubstring)) continue;
    return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

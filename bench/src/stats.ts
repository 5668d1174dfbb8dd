// Summary statistics across repetitions. With 3–5 repetitions on a shared machine the median is
// the honest centre, and min/max show the spread without pretending to a distribution.

export interface Spread {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly n: number;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) throw new RangeError('median of no values');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function spread(values: readonly number[]): Spread {
  if (values.length === 0) throw new RangeError('spread of no values');
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return { median: median(values), min, max, n: values.length };
}

/** variant ÷ baseline; null when it has no meaning (baseline zero or not finite). */
export function ratio(value: number, baseline: number): number | null {
  if (!Number.isFinite(value) || !Number.isFinite(baseline) || baseline === 0) return null;
  return value / baseline;
}

/** Index of the repetition whose value is closest to the median: the one to chart when a
 *  sample (a time series) cannot be averaged. */
export function medianIndex(values: readonly number[]): number {
  const m = median(values);
  let best = 0;
  for (let i = 1; i < values.length; i++) {
    if (Math.abs(values[i]! - m) < Math.abs(values[best]! - m)) best = i;
  }
  return best;
}

/** Rotates `items` left by `k`: repetition k starts with a different variant so that no variant
 *  always runs first (cold caches) or right after the heaviest one. */
export function rotate<T>(items: readonly T[], k: number): T[] {
  if (items.length === 0) return [];
  const s = ((k % items.length) + items.length) % items.length;
  return [...items.slice(s), ...items.slice(0, s)];
}

/** Nearest-rank quantile (q in 0..1) of sorted values: always an actual observation. */
export function nearestRank(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/** How much a series grew over its second half: the median of its last quarter (by time) minus
 *  the median of its second quarter. About 0 for a flat RSS whatever the GC noise; about half
 *  the total growth for a linear leak. */
export function rssGrowth(points: ReadonlyArray<readonly [number, number]>): number {
  if (points.length < 4) return Number.NaN;
  const t0 = points[0]![0];
  const span = points[points.length - 1]![0] - t0;
  const between = (a: number, b: number): number[] => points.filter(([t]) => t - t0 >= a * span && t - t0 <= b * span).map(([, v]) => v);
  const q2 = between(0.25, 0.5);
  const q4 = between(0.75, 1);
  if (q2.length === 0 || q4.length === 0) return Number.NaN;
  return median(q4) - median(q2);
}

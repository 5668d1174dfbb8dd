// Latency histograms as the report uses them (recorded by the peers, peers/latency-histogram.ts):
// percentiles in µs, and repetitions merged into one distribution for the percentile curve
// (merging histograms is exact; averaging percentiles is not).
import * as hdr from 'hdr-histogram-js';

export interface Percentiles {
  readonly p50: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
  readonly count: number;
}

const usAt = (h: hdr.Histogram, p: number): number => h.getValueAtPercentile(p) / 1000;

export function percentiles(encoded: string): Percentiles {
  const h = hdr.decodeFromCompressedBase64(encoded);
  return { p50: usAt(h, 50), p99: usAt(h, 99), p999: usAt(h, 99.9), max: h.maxValue / 1000, count: h.totalCount };
}

/** Percentiles for the curve, evenly spaced on the "nines" axis from 50 to 99.99. */
export function curvePercentiles(steps = 48): number[] {
  const lo = Math.log10(1 / (1 - 0.5));
  const hi = Math.log10(1 / (1 - 0.9999));
  return Array.from({ length: steps + 1 }, (_, i) => 100 * (1 - 10 ** -(lo + ((hi - lo) * i) / steps)));
}

/** Merges the histograms of several repetitions; returns [percentile, µs] points. */
export function mergedCurve(encoded: readonly string[]): Array<[number, number]> {
  if (encoded.length === 0) return [];
  const [first, ...rest] = encoded.map((e) => hdr.decodeFromCompressedBase64(e));
  const merged = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60e9, numberOfSignificantValueDigits: 3 });
  merged.add(first!);
  for (const h of rest) merged.add(h);
  return curvePercentiles().map((p) => [p, usAt(merged, p)]);
}

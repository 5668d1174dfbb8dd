// Latency recording inside a peer (the round-trip loop, round-trip-loop.ts). Values are
// nanoseconds (hrtime), the histogram travels to the parent in HdrHistogram's compressed base64
// form and is decoded there (report/latency-percentiles.ts).
import * as hdr from 'hdr-histogram-js';

export type LatencyHistogram = hdr.Histogram;

export function newLatencyHistogram(): LatencyHistogram {
  // 1 ns .. 60 s at 3 significant digits: 0.1% resolution at any magnitude.
  return hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60e9, numberOfSignificantValueDigits: 3 });
}

export function encodeHistogram(h: LatencyHistogram): string {
  return hdr.encodeIntoCompressedBase64(h);
}

/** What a latency client role returns. */
export interface LatencyResult {
  readonly histogram: string;
  readonly count: number;
  readonly seconds: number;
}

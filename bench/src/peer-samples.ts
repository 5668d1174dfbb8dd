// Turning peer results into samples, with the sanity checks that keep a broken run from
// producing a flattering figure. Used by the variants on both sides (baselines/, vsock-rpc/).
import type { LatencyResult } from './peers/latency-histogram.js';
import type { RateResult } from './peers/timing.js';
import type { LatencySample, RateSample } from './workload-contract.js';

export function expectSameCount(what: string, received: number, sent: number): void {
  if (received !== sent) throw new Error(`${what}: server received ${received}, client sent ${sent}`);
}

function checkWindow(r: { count: number; seconds: number }): void {
  if (!(r.count > 0) || !(r.seconds > 0)) {
    throw new Error(`empty measurement window (${r.count} operations in ${r.seconds} s): raise the limits`);
  }
}

/** Operations per second, plus MB/s (10^6 bytes) when bytes were counted. */
export function rateSample(r: RateResult): RateSample {
  checkWindow(r);
  return {
    kind: 'rate',
    value: r.count / r.seconds,
    count: r.count,
    seconds: r.seconds,
    ...(r.bytes > 0 ? { extra: { 'MB/s': r.bytes / r.seconds / 1e6 } } : {}),
  };
}

/** MB/s (10^6 bytes) as the headline figure. */
export function bandwidthSample(r: RateResult): RateSample {
  checkWindow(r);
  return { kind: 'rate', value: r.bytes / r.seconds / 1e6, count: r.count, seconds: r.seconds };
}

export function latencySample(r: LatencyResult | RateResult): LatencySample {
  if (!('histogram' in r)) throw new Error('peer returned a rate where a latency histogram was expected');
  checkWindow(r);
  return { kind: 'latency', histogram: r.histogram, count: r.count, seconds: r.seconds };
}

export function callRateSample(r: LatencyResult | RateResult): RateSample {
  if ('histogram' in r) throw new Error('peer returned a histogram where a rate was expected');
  checkWindow(r);
  return { kind: 'rate', value: r.count / r.seconds, count: r.count, seconds: r.seconds };
}

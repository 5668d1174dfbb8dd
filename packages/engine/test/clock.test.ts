/**
 * Clock arithmetic (src/clock.ts): NTP offset/delay/bound in bigint past 2^53, rounding of
 * negative values, the minimum-delay choice, drift by weighted least squares, and the
 * toLocal/toRemote model.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ClockModel, DriftEstimator, ceilDiv, estimateDrift, floorDiv, pickMinDelay, sampleOffset, type DriftPoint } from '../src/clock.js';
import type { ClockSample } from '../src/connection.js';

/**
 * An exchange built from its ground truth: true offset θ (local − remote), forward one-way
 * time d1, responder turnaround, return one-way time d2, T1 on our clock.
 */
function exchange(t1: bigint, theta: bigint, d1: bigint, turnaround: bigint, d2: bigint): ClockSample {
  const t1r = t1 + d1 - theta;
  const t2r = t1r + turnaround;
  const t2 = t2r + theta + d2;
  return { t1, t1r, t2r, t2 };
}

const abs = (v: bigint): bigint => (v < 0n ? -v : v);

describe('floorDiv / ceilDiv', () => {
  it('round towards −∞ / +∞ where bigint / truncates towards zero', () => {
    expect(-3n / 2n).toBe(-1n); // what we must not use for negative offsets
    expect(floorDiv(-3n, 2n)).toBe(-2n);
    expect(floorDiv(3n, 2n)).toBe(1n);
    expect(floorDiv(-4n, 2n)).toBe(-2n);
    expect(ceilDiv(3n, 2n)).toBe(2n);
    expect(ceilDiv(-3n, 2n)).toBe(-1n);
    expect(ceilDiv(4n, 2n)).toBe(2n);
  });
});

describe('sampleOffset', () => {
  it('is exact with timestamps near 2^62, where a number would lose nanoseconds', () => {
    const t1 = 2n ** 62n + 12_345n;
    const theta = -5_000_000_000n; // the server 5 s ahead of us
    const s = exchange(t1, theta, 20_001n, 7_000n, 20_001n);
    expect(Number(s.t1) === Number(s.t1 + 1n)).toBe(true); // doubles cannot tell these apart
    const e = sampleOffset(s);
    expect(e.offsetNs).toBe(theta);
    expect(e.delayNs).toBe(40_002n);
    expect(e.errorBoundNs).toBe(20_001n);
  });

  it('an asymmetric path shifts the estimate by half the asymmetry, within the bound', () => {
    const s = exchange(2n ** 62n, 5_000_000_000n, 10_000n, 3_000n, 30_000n);
    const e = sampleOffset(s);
    expect(e.offsetNs - 5_000_000_000n).toBe(10_000n); // (d2 − d1) / 2
    expect(e.delayNs).toBe(40_000n);
    expect(e.errorBoundNs).toBe(20_000n);
  });

  it('floors negative half-nanosecond offsets and widens the bound to cover it', () => {
    // sum = (T2 − T2′) + (T1 − T1′) = −3: the exact offset is −1.5
    const s: ClockSample = { t1: 0n, t1r: 1n, t2r: 1n, t2: -1n };
    const e = sampleOffset(s);
    expect(e.offsetNs).toBe(-2n);
    expect(e.delayNs).toBe(-1n); // an impossible delay (clocks stepped): counted as 0
    expect(e.errorBoundNs).toBe(1n);
    // translation invariance: shifting the remote clock by k shifts the offset by exactly −k
    for (const k of [1n, -1n, 7n, -(2n ** 62n)]) {
      const shifted = sampleOffset({ ...s, t1r: s.t1r + k, t2r: s.t2r + k });
      expect(shifted.offsetNs).toBe(e.offsetNs - k);
    }
  });

  it('|estimate − true offset| ≤ errorBound for any delays, offsets and clock values (property)', () => {
    const i64 = fc.bigInt({ min: -(2n ** 62n), max: 2n ** 62n });
    const d = fc.bigInt({ min: 0n, max: 10n ** 9n });
    fc.assert(
      fc.property(i64, i64, d, d, d, (t1, theta, d1, turn, d2) => {
        const e = sampleOffset(exchange(t1, theta, d1, turn, d2));
        expect(e.delayNs).toBe(d1 + d2);
        expect(abs(e.offsetNs - theta) <= e.errorBoundNs).toBe(true);
      }),
      { numRuns: 500 },
    );
  });
});

describe('pickMinDelay', () => {
  it('keeps the least-delay sample, the earliest on a tie', () => {
    const t = 2n ** 62n;
    const theta = -5_000_000_000n;
    const samples = [
      exchange(t, theta, 900_000n, 1_000n, 50_000n), // behind a batch on the way out
      exchange(t + 1_000_000n, theta, 4_000n, 1_000n, 6_000n),
      exchange(t + 2_000_000n, theta, 40_000n, 1_000n, 400_000n), // our loop was busy
      exchange(t + 3_000_000n, theta, 6_000n, 1_000n, 4_000n), // same delay as #1
    ];
    const best = pickMinDelay(samples);
    expect(best.index).toBe(1);
    expect(best.sample).toBe(samples[1]);
    expect(best.delayNs).toBe(10_000n);
    expect(best.offsetNs).toBe(theta + 1_000n);
    // the naive single sample would have been off by 425 µs
    expect(sampleOffset(samples[0]!).offsetNs - theta).toBe(-425_000n);
  });

  it('throws on an empty burst', () => {
    expect(() => pickMinDelay([])).toThrow(expect.objectContaining({ name: 'VsockRpcError', code: 'ERR_INVALID_ARG_VALUE' }));
  });
});

describe('estimateDrift', () => {
  const t0 = 2n ** 62n;
  const theta0 = -5_000_000_000n;
  /** Syncs every 3 s of an offset drifting at `ppm`, with deterministic ± noise. */
  function drifting(ppm: number, n: number, noiseNs: number[] = [0]): DriftPoint[] {
    const out: DriftPoint[] = [];
    for (let i = 0; i < n; i++) {
      const at = t0 + BigInt(i) * 3_000_000_000n;
      const noise = noiseNs[i % noiseNs.length]!;
      out.push({ atNs: at, offsetNs: theta0 + BigInt(Math.round(ppm * 3000 * i + noise)), errorBoundNs: 10_000n });
    }
    return out;
  }

  it('recovers a known drift from noiseless syncs', () => {
    const e = estimateDrift(drifting(25, 8))!;
    expect(e.driftPpm).toBeCloseTo(25, 6);
    expect(e.points).toBe(8);
    expect(e.spanNs).toBe(21_000_000_000n);
  });

  it('recovers a negative drift within its uncertainty from noisy syncs', () => {
    const e = estimateDrift(drifting(-12.5, 8, [3000, -5000, 1000, 4000, -2000, -3000, 5000, 0]))!;
    expect(Math.abs(e.driftPpm + 12.5)).toBeLessThan(e.uncertaintyPpm);
    expect(Math.abs(e.driftPpm + 12.5)).toBeLessThan(0.5);
    // equal bounds B at 8 evenly spaced points over span S: Σ|x − x̄|·B / Σ(x − x̄)² = (8/3)·B/S
    expect(e.uncertaintyPpm).toBeCloseTo((((8 / 3) * 10_000) / 21e9) * 1e6, 9);
    // two points: 2 × bound / span
    expect(estimateDrift(drifting(-12.5, 2))!.uncertaintyPpm).toBeCloseTo(((2 * 10_000) / 3e9) * 1e6, 9);
  });

  it('weights by 1/bound²: one loose sync (behind a batch) barely moves the slope', () => {
    const points = drifting(10, 8);
    // the newest sync is 2 ms off, but says so with a 2 ms bound
    const last = points[7]!;
    points[7] = { ...last, offsetNs: last.offsetNs + 2_000_000n, errorBoundNs: 2_000_000n };
    const weighted = estimateDrift(points)!;
    expect(Math.abs(weighted.driftPpm - 10)).toBeLessThan(0.01);
    // what an unweighted fit would make of it: every bound equal
    const unweighted = estimateDrift(points.map((p) => ({ ...p, errorBoundNs: 10_000n })))!;
    expect(Math.abs(unweighted.driftPpm - 10)).toBeGreaterThan(30);
  });

  it('the true drift is within uncertaintyPpm whenever each sync is within its bound (property)', () => {
    const point = fc.record({
      gapMs: fc.integer({ min: 100, max: 10_000 }),
      bound: fc.integer({ min: 1, max: 2_000_000 }),
      u: fc.double({ min: -1, max: 1, noNaN: true }),
    });
    fc.assert(
      fc.property(fc.double({ min: -500, max: 500, noNaN: true }), fc.array(point, { minLength: 2, maxLength: 12 }), (ppm, pts) => {
        let at = t0;
        const points = pts.map((p) => {
          at += BigInt(p.gapMs) * 1_000_000n;
          const truth = Number(at - t0) * ppm * 1e-6;
          return { atNs: at, offsetNs: theta0 + BigInt(Math.round(truth + p.u * (p.bound - 1))), errorBoundNs: BigInt(p.bound) };
        });
        const e = estimateDrift(points, { minSpanNs: 1n })!;
        expect(Math.abs(e.driftPpm - ppm)).toBeLessThanOrEqual(e.uncertaintyPpm * (1 + 1e-9) + 1e-6);
      }),
      { numRuns: 300 },
    );
  });

  it('declines below two points or the minimum span', () => {
    expect(estimateDrift(drifting(5, 1))).toBeUndefined();
    const close: DriftPoint[] = [
      { atNs: t0, offsetNs: 0n, errorBoundNs: 10n },
      { atNs: t0 + 100_000_000n, offsetNs: 1000n, errorBoundNs: 10n },
    ];
    expect(estimateDrift(close)).toBeUndefined();
    expect(estimateDrift(close, { minSpanNs: 50_000_000n })!.driftPpm).toBeCloseTo(10, 9);
  });

  it('DriftEstimator keeps a window of the latest syncs', () => {
    const d = new DriftEstimator(4);
    const early = drifting(50, 4);
    for (const p of early) d.add(p);
    expect(d.estimate!.driftPpm).toBeCloseTo(50, 6);
    // the drift changes to 5 ppm; after 4 new syncs the old ones are out of the window
    const last = early[3]!;
    for (let i = 1; i <= 4; i++) d.add({ atNs: last.atNs + BigInt(i) * 3_000_000_000n, offsetNs: last.offsetNs + BigInt(i * 15_000), errorBoundNs: 10_000n });
    expect(d.size).toBe(4);
    expect(d.estimate!.driftPpm).toBeCloseTo(5, 6);
    d.clear();
    expect(d.size).toBe(0);
    expect(d.estimate).toBeUndefined();
  });
});

describe('ClockModel', () => {
  const at = 2n ** 62n + 987_654_321n;

  it('toRemote and toLocal apply the offset (no drift)', () => {
    const m = new ClockModel({ atNs: at, offsetNs: -5_000_000_000n, errorBoundNs: 8_000n, driftPpm: 0, driftBoundPpm: 0 });
    expect(m.toRemote(at)).toEqual({ value: at + 5_000_000_000n, errorBoundNs: 8_000n });
    expect(m.toLocal(at + 5_000_000_000n)).toEqual({ value: at, errorBoundNs: 8_000n });
  });

  it('round-trips within 1 ns with drift, far from the anchor, past 2^62', () => {
    const m = new ClockModel({ atNs: at, offsetNs: -5_000_000_123n, errorBoundNs: 3_000n, driftPpm: 37.5, driftBoundPpm: 0.2 });
    for (const dt of [0n, 1n, -1n, 1_000_000_007n, -3_600_000_000_000n, 86_400_000_000_000n]) {
      const t = at + dt;
      const r = m.toRemote(t);
      const back = m.toLocal(r.value);
      expect(abs(back.value - t) <= 1n).toBe(true);
      expect(abs(back.errorBoundNs - r.errorBoundNs) <= 1n).toBe(true);
    }
    // after one hour at 37.5 ppm the offset moved by 135 ms
    expect(m.offsetAt(at + 3_600_000_000_000n) - m.offsetNs).toBe(135_000_000n);
    // the remote clock runs slower by the drift: an hour here is 135 ms less there
    expect(m.toRemote(at + 3_600_000_000_000n).value - m.toRemote(at).value).toBe(3_600_000_000_000n - 135_000_000n);
  });

  it('the error bound grows with the time from the sync × the drift bound', () => {
    const m = new ClockModel({ atNs: at, offsetNs: 0n, errorBoundNs: 5_000n, driftPpm: 0, driftBoundPpm: 100 });
    expect(m.errorBoundAt(at)).toBe(5_000n);
    expect(m.errorBoundAt(at + 1_000_000_000n)).toBe(105_000n); // + 100 µs per second
    expect(m.errorBoundAt(at - 3_000_000_000n)).toBe(305_000n); // before the anchor too
    expect(m.toRemote(at + 1_000_000_000n).errorBoundNs).toBe(105_000n);
  });
});

/**
 * Clock arithmetic: pure functions on bigint nanoseconds, no I/O (ARCHITECTURE.md "Clock sync",
 * PROTOCOL.md §4). {@link ./clock-sync.ts} drives the exchanges; this module only computes.
 *
 * Conventions, everywhere in this module:
 * - "local" is our clock, "remote" the peer's; both CLOCK_MONOTONIC in ns, as bigint, because
 *   realistic values (≈ 2^60 and above for epoch-ns, or a skewed monotonic clock) are far past
 *   2^53 where a `number` stops counting single nanoseconds.
 * - offset = local − remote. So `remote = local − offset` and `local = remote + offset`.
 * - drift (ppm) = the rate of change of the offset per unit of local time, × 10^6. Positive:
 *   our clock runs faster than the peer's.
 */
import { VsockRpcError } from '@vsock-rpc/wire';
import type { ClockSample } from './connection.js';

/** What one exchange says about the offset. All ns. */
export interface OffsetEstimate {
  /** local − remote: ((T2 − T2′) + (T1 − T1′)) / 2, rounded towards −∞. */
  readonly offsetNs: bigint;
  /** Round-trip time minus the responder's turnaround: (T2 − T1) − (T2′ − T1′). */
  readonly delayNs: bigint;
  /** |true offset − offsetNs| ≤ errorBoundNs: delay / 2, rounded up (and covering the rounding of offsetNs). */
  readonly errorBoundNs: bigint;
}

/** `a / b` rounded towards −∞ (bigint `/` truncates towards zero), for b > 0. */
export function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b < 0n ? q - 1n : q;
}

/** `a / b` rounded towards +∞, for b > 0. */
export function ceilDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b > 0n ? q + 1n : q;
}

/**
 * The offset, delay and error bound of one exchange (the NTP formulas).
 *
 * Rounding: the exact offset is a multiple of ½ ns. bigint `/` truncates towards zero, which
 * would round a positive offset down but a negative one up, so an offset computed from clocks
 * shifted by a constant would not shift by exactly that constant. We floor instead (towards −∞),
 * which is translation-invariant, and widen the error bound by the lost ½ ns when the sum is odd
 * so that the bound still holds. The bound is delay/2 rounded up; a negative delay (only possible
 * with clocks stepping or drifting wildly mid-exchange) counts as 0.
 *
 * Why delay/2 bounds the error: with true offset θ, forward one-way time d₁ = T1′ + θ − T1 ≥ 0 and
 * return time d₂ = T2 − T2′ − θ ≥ 0, the estimate is θ + (d₂ − d₁)/2 and delay = d₁ + d₂, so
 * |estimate − θ| = |d₂ − d₁|/2 ≤ delay/2.
 */
export function sampleOffset(s: ClockSample): OffsetEstimate {
  const sum = s.t2 - s.t2r + (s.t1 - s.t1r);
  const offsetNs = floorDiv(sum, 2n);
  const delayNs = s.t2 - s.t1 - (s.t2r - s.t1r);
  // `sum & 1n` is 0n or 1n for negative sums too (bigint bitwise ops are two's complement).
  const errorBoundNs = ceilDiv((delayNs > 0n ? delayNs : 0n) + (sum & 1n), 2n);
  return { offsetNs, delayNs, errorBoundNs };
}

/** The sample a burst keeps, with its estimate and its position in the burst. */
export interface PickedSample extends OffsetEstimate {
  readonly sample: ClockSample;
  readonly index: number;
}

/**
 * The minimum-delay sample of a burst: the one whose error bound is tightest, because queueing
 * (a busy event loop on either side, a socket buffer ahead of the frame) only ever adds delay.
 * Ties go to the earliest sample.
 * @throws VsockRpcError `ERR_INVALID_ARG_VALUE` on an empty list.
 */
export function pickMinDelay(samples: readonly ClockSample[]): PickedSample {
  let best: PickedSample | undefined;
  for (let i = 0; i < samples.length; i++) {
    const sample = samples[i]!;
    const e = sampleOffset(sample);
    if (best === undefined || e.delayNs < best.delayNs) best = { ...e, sample, index: i };
  }
  if (best === undefined) throw new VsockRpcError('ERR_INVALID_ARG_VALUE', 'pickMinDelay needs at least one sample');
  return best;
}

/** One sync as the drift estimator sees it. */
export interface DriftPoint {
  /** Local time at which `offsetNs` held (the midpoint of the kept exchange). */
  readonly atNs: bigint;
  readonly offsetNs: bigint;
  readonly errorBoundNs: bigint;
}

/** A drift estimate from a window of syncs. */
export interface DriftEstimate {
  /** Slope of the offset against local time, ppm. */
  readonly driftPpm: number;
  /**
   * How far off `driftPpm` may be, ppm, if the offset really is linear over the window and each
   * sync is within its error bound: the fit is linear in the offsets, so its worst case is every
   * point off by its full bound on the side that tilts the line most,
   * Σ wᵢ·|xᵢ − x̄|·boundᵢ / Σ wᵢ·(xᵢ − x̄)². (For two points: 2 × bound / span.) A worst case,
   * not a statistical interval: the typical error is much smaller.
   */
  readonly uncertaintyPpm: number;
  /** Local time from the first to the last point of the window. */
  readonly spanNs: bigint;
  /** Points used. */
  readonly points: number;
}

/** Options of {@link estimateDrift}. */
export interface DriftOptions {
  /**
   * No estimate over a shorter span (default 500 ms): the slope of points a few ms apart is
   * their noise divided by a tiny interval, not a drift.
   */
  readonly minSpanNs?: bigint;
  /**
   * Error bounds below this count as this in the weights (default 1 µs), so that one lucky
   * sample with a near-zero bound does not get a near-infinite weight.
   */
  readonly minErrorBoundNs?: bigint;
}

/**
 * Drift by weighted least squares of offset against local time.
 *
 * Weighted, with weights 1 / errorBound²: the bounds of syncs differ by orders of magnitude (a
 * sync on an idle connection vs one behind a burst of events), and the bound is the best
 * available proxy for each point's error, so inverse-variance weighting lets the tight points
 * set the slope while an unweighted fit would be pulled by the loose ones.
 *
 * Numerics: x and y are taken relative to the last point in bigint first, then converted to
 * float: the differences within a window (seconds to minutes of ns, offsets' changes of µs) are
 * far below 2^53, whereas the absolute values are not.
 *
 * @returns undefined with fewer than two points or a span below `minSpanNs`.
 */
export function estimateDrift(points: readonly DriftPoint[], options: DriftOptions = {}): DriftEstimate | undefined {
  if (points.length < 2) return undefined;
  const minSpan = options.minSpanNs ?? 500_000_000n;
  const floor = Number(options.minErrorBoundNs ?? 1000n);
  const ref = points[points.length - 1]!;
  let lo = ref.atNs;
  let hi = ref.atNs;
  for (const p of points) {
    if (p.atNs < lo) lo = p.atNs;
    if (p.atNs > hi) hi = p.atNs;
  }
  const spanNs = hi - lo;
  if (spanNs < minSpan || spanNs <= 0n) return undefined;
  let sw = 0;
  let sx = 0;
  let sy = 0;
  const xs: number[] = [];
  const ys: number[] = [];
  const ws: number[] = [];
  const bs: number[] = [];
  for (const p of points) {
    const x = Number(p.atNs - ref.atNs);
    const y = Number(p.offsetNs - ref.offsetNs);
    const b = Math.max(floor, Number(p.errorBoundNs));
    const w = 1 / (b * b);
    xs.push(x);
    ys.push(y);
    ws.push(w);
    bs.push(Number(p.errorBoundNs));
    sw += w;
    sx += w * x;
    sy += w * y;
  }
  const mx = sx / sw;
  const my = sy / sw;
  let sxx = 0;
  let sxy = 0;
  let worst = 0;
  for (let i = 0; i < xs.length; i++) {
    const dx = xs[i]! - mx;
    sxx += ws[i]! * dx * dx;
    sxy += ws[i]! * dx * (ys[i]! - my);
    worst += ws[i]! * Math.abs(dx) * bs[i]!;
  }
  if (sxx === 0) return undefined;
  return {
    driftPpm: (sxy / sxx) * 1e6,
    uncertaintyPpm: (worst / sxx) * 1e6,
    spanNs,
    points: points.length,
  };
}

/**
 * Keeps the last `window` syncs and re-estimates the drift on each one (see
 * {@link estimateDrift}).
 */
export class DriftEstimator {
  readonly #points: DriftPoint[] = [];
  readonly #window: number;
  readonly #options: DriftOptions;
  #estimate: DriftEstimate | undefined;

  /** @param window how many of the latest syncs the fit uses (default 8, at least 2). */
  constructor(window = 8, options: DriftOptions = {}) {
    this.#window = Math.max(2, Math.floor(window));
    this.#options = options;
  }

  /** Adds a sync; returns the new estimate (undefined until two syncs span `minSpanNs`). */
  add(point: DriftPoint): DriftEstimate | undefined {
    this.#points.push(point);
    if (this.#points.length > this.#window) this.#points.splice(0, this.#points.length - this.#window);
    this.#estimate = estimateDrift(this.#points, this.#options);
    return this.#estimate;
  }

  /** The latest estimate. */
  get estimate(): DriftEstimate | undefined {
    return this.#estimate;
  }

  /** Syncs in the window. */
  get size(): number {
    return this.#points.length;
  }

  /** Forgets every sync (a new peer: its clock may be another clock altogether). */
  clear(): void {
    this.#points.length = 0;
    this.#estimate = undefined;
  }
}

/** A timestamp converted into the other clock domain, with how far off it may be. */
export interface Converted {
  readonly value: bigint;
  readonly errorBoundNs: bigint;
}

/** What a {@link ClockModel} is built from. */
export interface ClockModelState {
  /** Local time at which `offsetNs` was measured (the anchor). */
  readonly atNs: bigint;
  /** local − remote at `atNs`. */
  readonly offsetNs: bigint;
  /** Error bound of `offsetNs` at `atNs`. */
  readonly errorBoundNs: bigint;
  /** Drift applied when extrapolating away from `atNs` (0 when not estimated yet). */
  readonly driftPpm: number;
  /** How wrong `driftPpm` may be; the error bound grows by this × the time from `atNs`. */
  readonly driftBoundPpm: number;
}

/**
 * The offset as a function of local time: a line through the last sync's offset with the
 * estimated drift as slope. Anchored at the last sync rather than at the fitted line's value,
 * because the last sync is the freshest measurement and comes with its own error bound.
 *
 * Error bound at local time t: errorBound(anchor) + |t − anchor| × driftBoundPpm / 10^6, rounded
 * up. Simple on purpose: the first term is the measurement's own bound, the second how far a
 * slope that is wrong by driftBoundPpm can carry us.
 */
export class ClockModel implements ClockModelState {
  readonly atNs: bigint;
  readonly offsetNs: bigint;
  readonly errorBoundNs: bigint;
  readonly driftPpm: number;
  readonly driftBoundPpm: number;

  constructor(state: ClockModelState) {
    this.atNs = state.atNs;
    this.offsetNs = state.offsetNs;
    this.errorBoundNs = state.errorBoundNs;
    this.driftPpm = state.driftPpm;
    this.driftBoundPpm = Math.abs(state.driftBoundPpm);
  }

  /** local − remote at local time `localTs`. */
  offsetAt(localTs: bigint): bigint {
    if (this.driftPpm === 0) return this.offsetNs;
    // The drift term is small (ppm × Δt), so float precision of Δt is plenty for it.
    return this.offsetNs + BigInt(Math.round((Number(localTs - this.atNs) * this.driftPpm) / 1e6));
  }

  /** The error bound of the offset at local time `localTs`. */
  errorBoundAt(localTs: bigint): bigint {
    const dt = localTs >= this.atNs ? localTs - this.atNs : this.atNs - localTs;
    return this.errorBoundNs + BigInt(Math.ceil((Number(dt) * this.driftBoundPpm) / 1e6));
  }

  /** Our timestamp `localTs` on the peer's clock. */
  toRemote(localTs: bigint): Converted {
    return { value: localTs - this.offsetAt(localTs), errorBoundNs: this.errorBoundAt(localTs) };
  }

  /**
   * The peer's timestamp `remoteTs` on our clock. Solves local = remote + offset(local) exactly
   * for the linear model: local = anchor + Δ / (1 − d) with Δ = remote + offset₀ − anchor and
   * d = drift × 10^−6, so that toLocal(toRemote(t)) = t up to rounding.
   */
  toLocal(remoteTs: bigint): Converted {
    const delta = remoteTs + this.offsetNs - this.atNs;
    let local = this.atNs + delta;
    if (this.driftPpm !== 0) {
      const d = this.driftPpm / 1e6;
      local += BigInt(Math.round((Number(delta) * d) / (1 - d)));
    }
    return { value: local, errorBoundNs: this.errorBoundAt(local) };
  }
}

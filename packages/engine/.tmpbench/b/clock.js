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
/** `a / b` rounded towards −∞ (bigint `/` truncates towards zero), for b > 0. */
export function floorDiv(a, b) {
    const q = a / b;
    return a % b < 0n ? q - 1n : q;
}
/** `a / b` rounded towards +∞, for b > 0. */
export function ceilDiv(a, b) {
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
export function sampleOffset(s) {
    const sum = s.t2 - s.t2r + (s.t1 - s.t1r);
    const offsetNs = floorDiv(sum, 2n);
    const delayNs = s.t2 - s.t1 - (s.t2r - s.t1r);
    // `sum & 1n` is 0n or 1n for negative sums too (bigint bitwise ops are two's complement).
    const errorBoundNs = ceilDiv((delayNs > 0n ? delayNs : 0n) + (sum & 1n), 2n);
    return { offsetNs, delayNs, errorBoundNs };
}
/**
 * The minimum-delay sample of a burst: the one whose error bound is tightest, because queueing
 * (a busy event loop on either side, a socket buffer ahead of the frame) only ever adds delay.
 * Ties go to the earliest sample.
 * @throws VsockRpcError `ERR_INVALID_ARG_VALUE` on an empty list.
 */
export function pickMinDelay(samples) {
    let best;
    for (let i = 0; i < samples.length; i++) {
        const sample = samples[i];
        const e = sampleOffset(sample);
        if (best === undefined || e.delayNs < best.delayNs)
            best = { ...e, sample, index: i };
    }
    if (best === undefined)
        throw new VsockRpcError('ERR_INVALID_ARG_VALUE', 'pickMinDelay needs at least one sample');
    return best;
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
export function estimateDrift(points, options = {}) {
    if (points.length < 2)
        return undefined;
    const minSpan = options.minSpanNs ?? 500000000n;
    const floor = Number(options.minErrorBoundNs ?? 1000n);
    const ref = points[points.length - 1];
    let lo = ref.atNs;
    let hi = ref.atNs;
    for (const p of points) {
        if (p.atNs < lo)
            lo = p.atNs;
        if (p.atNs > hi)
            hi = p.atNs;
    }
    const spanNs = hi - lo;
    if (spanNs < minSpan || spanNs <= 0n)
        return undefined;
    let sw = 0;
    let sx = 0;
    let sy = 0;
    const xs = [];
    const ys = [];
    const ws = [];
    const bs = [];
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
        const dx = xs[i] - mx;
        sxx += ws[i] * dx * dx;
        sxy += ws[i] * dx * (ys[i] - my);
        worst += ws[i] * Math.abs(dx) * bs[i];
    }
    if (sxx === 0)
        return undefined;
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
    #points = [];
    #window;
    #options;
    #estimate;
    /** @param window how many of the latest syncs the fit uses (default 8, at least 2). */
    constructor(window = 8, options = {}) {
        this.#window = Math.max(2, Math.floor(window));
        this.#options = options;
    }
    /** Adds a sync; returns the new estimate (undefined until two syncs span `minSpanNs`). */
    add(point) {
        this.#points.push(point);
        if (this.#points.length > this.#window)
            this.#points.splice(0, this.#points.length - this.#window);
        this.#estimate = estimateDrift(this.#points, this.#options);
        return this.#estimate;
    }
    /** The latest estimate. */
    get estimate() {
        return this.#estimate;
    }
    /** Syncs in the window. */
    get size() {
        return this.#points.length;
    }
    /** Forgets every sync (a new peer: its clock may be another clock altogether). */
    clear() {
        this.#points.length = 0;
        this.#estimate = undefined;
    }
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
export class ClockModel {
    atNs;
    offsetNs;
    errorBoundNs;
    driftPpm;
    driftBoundPpm;
    constructor(state) {
        this.atNs = state.atNs;
        this.offsetNs = state.offsetNs;
        this.errorBoundNs = state.errorBoundNs;
        this.driftPpm = state.driftPpm;
        this.driftBoundPpm = Math.abs(state.driftBoundPpm);
    }
    /** local − remote at local time `localTs`. */
    offsetAt(localTs) {
        if (this.driftPpm === 0)
            return this.offsetNs;
        // The drift term is small (ppm × Δt), so float precision of Δt is plenty for it.
        return this.offsetNs + BigInt(Math.round((Number(localTs - this.atNs) * this.driftPpm) / 1e6));
    }
    /** The error bound of the offset at local time `localTs`. */
    errorBoundAt(localTs) {
        const dt = localTs >= this.atNs ? localTs - this.atNs : this.atNs - localTs;
        return this.errorBoundNs + BigInt(Math.ceil((Number(dt) * this.driftBoundPpm) / 1e6));
    }
    /** Our timestamp `localTs` on the peer's clock. */
    toRemote(localTs) {
        return { value: localTs - this.offsetAt(localTs), errorBoundNs: this.errorBoundAt(localTs) };
    }
    /**
     * The peer's timestamp `remoteTs` on our clock. Solves local = remote + offset(local) exactly
     * for the linear model: local = anchor + Δ / (1 − d) with Δ = remote + offset₀ − anchor and
     * d = drift × 10^−6, so that toLocal(toRemote(t)) = t up to rounding.
     */
    toLocal(remoteTs) {
        const delta = remoteTs + this.offsetNs - this.atNs;
        let local = this.atNs + delta;
        if (this.driftPpm !== 0) {
            const d = this.driftPpm / 1e6;
            local += BigInt(Math.round((Number(delta) * d) / (1 - d)));
        }
        return { value: local, errorBoundNs: this.errorBoundAt(local) };
    }
}
//# sourceMappingURL=clock.js.map
/**
 * What one peer may cost us: bytes received and CPU time spent on its input, each a token bucket.
 * A peer over budget is slowed first (the connection stops reading from it until the bucket has
 * refilled, so the kernel's flow control pushes back on the sender), and closed with
 * `RESOURCE_EXHAUSTED` only if it stays over budget (ARCHITECTURE.md, "A guest is hostile").
 */
const OK = { action: 'ok' };
class Bucket {
    #rate;
    #burst;
    #tokens;
    #at;
    constructor(perSecond, burstSeconds, now) {
        this.#rate = perSecond / 1000;
        this.#burst = perSecond * burstSeconds;
        this.#tokens = this.#burst;
        this.#at = now;
    }
    /** Takes `amount` (may go negative: the work is already done); returns ms until back to ≥ 0. */
    take(amount, now) {
        this.#tokens = Math.min(this.#burst, this.#tokens + (now - this.#at) * this.#rate);
        this.#at = now;
        this.#tokens -= amount;
        return this.#tokens >= 0 ? 0 : -this.#tokens / this.#rate;
    }
}
/** One peer's byte and CPU budget. Time is `performance.now()` ms. */
export class PeerBudget {
    #bytes;
    #cpu;
    #closeAfterMs;
    #throttledSince;
    /** Times this peer was slowed. */
    throttles = 0;
    constructor(options, now = performance.now()) {
        const burst = options.burstSeconds ?? 1;
        const bytes = options.bytesPerSecond;
        const cpu = options.cpuMsPerSecond;
        this.#bytes = bytes !== undefined && Number.isFinite(bytes) && bytes > 0 ? new Bucket(bytes, burst, now) : undefined;
        this.#cpu = cpu !== undefined && Number.isFinite(cpu) && cpu > 0 ? new Bucket(cpu, burst, now) : undefined;
        this.#closeAfterMs = options.closeAfterThrottledMs ?? 30_000;
    }
    /** Whether any limit is set (a connection skips the timing entirely when not). */
    get limited() {
        return this.#bytes !== undefined || this.#cpu !== undefined;
    }
    /** Charges one chunk's bytes and the CPU ms its processing took; says what to do next. */
    charge(bytes, cpuMs, now = performance.now()) {
        const waitBytes = this.#bytes?.take(bytes, now) ?? 0;
        const waitCpu = this.#cpu?.take(cpuMs, now) ?? 0;
        const pauseMs = Math.max(waitBytes, waitCpu);
        if (pauseMs <= 0) {
            this.#throttledSince = undefined;
            return OK;
        }
        this.throttles++;
        this.#throttledSince ??= now;
        const heldMs = now - this.#throttledSince + pauseMs;
        if (this.#closeAfterMs > 0 && heldMs > this.#closeAfterMs) {
            const which = waitCpu >= waitBytes ? 'CPU time' : 'bytes';
            return { action: 'close', reason: `over its ${which} budget for ${Math.round(heldMs)} ms (slowed ${this.throttles} times)` };
        }
        return { action: 'throttle', pauseMs: Math.ceil(pauseMs) };
    }
}
//# sourceMappingURL=peer-budget.js.map
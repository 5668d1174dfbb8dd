// Timing inside the peers: the monotonic clock, the rate result a receiving side returns, and
// the phased deadline (warm-up, then the measured window) every client runs against.

export const nowNs = (): bigint => process.hrtime.bigint();

export const secondsSince = (t0: bigint): number => Number(process.hrtime.bigint() - t0) / 1e9;

/** A rate measurement taken by the receiving side. */
export interface RateResult {
  /** operations measured (after warm-up) */
  readonly count: number;
  /** bytes measured (after warm-up), 0 when not meaningful */
  readonly bytes: number;
  readonly seconds: number;
}

/** The time bound of a client, in two phases. Warm-up ends after `warmup` operations or after
 *  `seconds`, whichever comes first (a slow start — grpc-js loading, JIT, a loaded machine — then
 *  shortens the warm-up instead of eating the measured window); the measured phase then gets
 *  `seconds` of its own. */
export class PhasedDeadline {
  private readonly limitNs: bigint;
  private phaseStart = nowNs();
  private measuring: boolean;
  /** operations done when the measured phase began */
  measuredFrom = 0;
  /** when the measured phase began */
  measureStartNs = this.phaseStart;

  constructor(
    seconds: number,
    private readonly warmup: number,
  ) {
    this.limitNs = BigInt(Math.round(seconds * 1e9));
    this.measuring = warmup <= 0;
  }

  get inWarmup(): boolean {
    return !this.measuring;
  }

  /** `done`: operations completed (sent, or answered) so far, warm-up included */
  expired(done: number, now: bigint = nowNs()): boolean {
    if (!this.measuring && (done >= this.warmup || now - this.phaseStart >= this.limitNs)) {
      this.measuring = true;
      this.phaseStart = now;
      this.measuredFrom = done;
      this.measureStartNs = now;
    }
    return this.measuring && now - this.phaseStart >= this.limitNs;
  }
}

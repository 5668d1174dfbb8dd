// The round-trip loop of the latency and concurrent workloads, written once for the three client
// peers that run it: raw-pingpong-peer.ts, grpc-unary-peer.ts and vsock-rpc-calls-peer.ts.
// `inflight` round trips are kept outstanding until `warmup + count` have started or the phased
// deadline has passed (timing.ts). With inflight = 1 each round trip is timed, from just before
// its request leaves to the receipt of its reply, into a latency histogram (measured phase only);
// with inflight > 1 completed round trips per second are measured instead.
//
// RoundTrips holds the rule and the bookkeeping. The grpc-js and vsock-rpc clients drive it with
// runLoops() and an async call; the raw client drives it from its socket's 'data' handler, one
// reply at a time, because a promise per round trip would slow down the baseline that is meant
// to be Node's ceiling.
import { nowNs, PhasedDeadline, type RateResult } from './timing.js';
import { encodeHistogram, newLatencyHistogram, type LatencyResult } from './latency-histogram.js';

/** The parameters of every round-trip peer (both roles). */
export interface RoundTripParams {
  readonly count: number;
  readonly seconds: number;
  readonly warmup: number;
  readonly inflight: number;
}

export class RoundTrips {
  private readonly hist = newLatencyHistogram();
  private readonly deadline: PhasedDeadline;
  private readonly target: number;
  private started = 0;
  private done = 0;

  /** `what` names a round trip in the error when none was measured ('calls', 'round trips'). */
  constructor(
    private readonly params: RoundTripParams,
    private readonly what: string,
  ) {
    this.deadline = new PhasedDeadline(params.seconds, params.warmup);
    this.target = params.warmup + params.count;
  }

  /** Whether another round trip may start: fewer than `warmup + count` have, and the deadline
   *  (given the round trips completed so far) has not passed. */
  next(now?: bigint): boolean {
    return this.started < this.target && !this.deadline.expired(this.done, now);
  }

  /** A request is about to leave; returns its start time. */
  start(): bigint {
    this.started++;
    return nowNs();
  }

  /** The reply to the request started at `sentAt` is in. For inflight = 1 the phase read here is
   *  the one the request left in (the deadline only moves in next(), and nothing else is
   *  outstanding). */
  end(sentAt: bigint, now: bigint = nowNs()): void {
    const measuring = !this.deadline.inWarmup;
    this.done++;
    if (measuring && this.params.inflight === 1) this.hist.recordValue(Number(now - sentAt));
  }

  /** Every round trip started has completed. */
  get idle(): boolean {
    return this.done === this.started;
  }

  /** `inflight` loops, each with one `call` outstanding, until next() says stop; resolves with the
   *  time the last one completed. */
  async runLoops(call: () => Promise<unknown>): Promise<bigint> {
    const loop = async (): Promise<void> => {
      while (this.next()) {
        const t = this.start();
        await call();
        this.end(t);
      }
    };
    await Promise.all(Array.from({ length: this.params.inflight }, loop));
    return nowNs();
  }

  /** The client role's result: the histogram for inflight = 1, else round trips completed in the
   *  measured phase (and `bytesPerRoundTrip` each, when meaningful) up to `tEnd`. */
  result(tEnd: bigint, bytesPerRoundTrip = 0): LatencyResult | RateResult {
    const measured = this.done - this.deadline.measuredFrom;
    if (measured <= 0 || this.deadline.inWarmup) throw new Error(`no ${this.what} measured (done ${this.done}): time limit too short`);
    const seconds = Number(tEnd - this.deadline.measureStartNs) / 1e9;
    if (this.params.inflight === 1) return { histogram: encodeHistogram(this.hist), count: this.hist.totalCount, seconds };
    return { count: measured, bytes: measured * bytesPerRoundTrip, seconds };
  }
}

/**
 * Per-source sequence bookkeeping on the host: what a collector needs to acknowledge, drop
 * duplicates (an agent resends what was not acknowledged after a reconnect) and measure gaps
 * without trusting the numbers a guest chose. Used by {@link Timeline}, which the
 * {@link Collector} and envtest's server both use, so the rules live in one place
 * (packages/trace/README.md, "Delivery").
 *
 * @packageDocumentation
 */
import { invalidArgument } from './errors.js';

/** Default largest forward jump of `seq` still counted as missing events (see {@link SequenceTrackerOptions}). */
export const DEFAULT_MAX_SEQ_GAP = 1 << 20;

/** Options of a {@link SequenceTracker}. */
export interface SequenceTrackerOptions {
  /**
   * Largest plausible forward jump of `seq`, in events (default 2^20, above any agent's buffer).
   * A bigger jump is counted as one `seqJumps` anomaly instead of that many missing events: a
   * forged `seq` of 10^12 must not report a trillion lost events.
   */
  maxSeqGap?: number;
}

/** What {@link SequenceTracker.accept} decided about one event. */
export type SeqVerdict = 'new' | 'duplicate';

/**
 * The sequence state of one source. An agent numbers its events 0, 1, 2, … on one connection and
 * resends unacknowledged ones, in order, after a reconnect; so an event whose `seq` is below the
 * next expected one was received before and is a duplicate. The first `seq` seen may be
 * anything (a collector restarted while the agent kept going).
 */
export class SequenceTracker {
  readonly #maxGap: number;
  /** Next expected seq; undefined before the first event. */
  #next: number | undefined;
  /** Last position acknowledged (see {@link ackPosition}). */
  #acked: number | undefined;
  /** Events missing by seq (plausible gaps only). */
  seqGaps = 0;
  /** Implausible forward jumps (each counted once). */
  seqJumps = 0;
  /** Events received again (seq already received); not merged a second time. */
  duplicates = 0;

  constructor(options: SequenceTrackerOptions = {}) {
    const g = options.maxSeqGap ?? DEFAULT_MAX_SEQ_GAP;
    if (!Number.isSafeInteger(g) || g < 0) throw invalidArgument(`maxSeqGap must be an integer ≥ 0, got ${g}`);
    this.#maxGap = g;
  }

  /** Highest seq received, or undefined. */
  get highest(): number | undefined {
    return this.#next === undefined ? undefined : this.#next - 1;
  }

  /** Last position returned by {@link ackPosition}, or undefined. */
  get acked(): number | undefined {
    return this.#acked;
  }

  /** Classify one received event by `seq` and update the counters. */
  accept(seq: number): SeqVerdict {
    const next = this.#next;
    if (next !== undefined) {
      if (seq < next) {
        this.duplicates++;
        return 'duplicate';
      }
      const gap = seq - next;
      if (gap > this.#maxGap) this.seqJumps++;
      else this.seqGaps += gap;
    }
    this.#next = seq + 1;
    return 'new';
  }

  /**
   * The new cumulative ack position, if it advanced since the last call.
   *
   * @param buffered - events of this source still held (not yet accounted for) downstream.
   * @param lastReleased - seq of this source's last event handed out downstream.
   * @returns everything ≤ the result is accounted for; undefined when nothing new is.
   */
  ackPosition(buffered: number, lastReleased: number | undefined): number | undefined {
    // Held events come out in seq order (per source, ts follows seq), so with some still held
    // the last released one is the safe cut; with none held, everything received is accounted.
    const pos = buffered === 0 ? this.highest : lastReleased;
    if (pos === undefined || (this.#acked !== undefined && pos <= this.#acked)) return undefined;
    this.#acked = pos;
    return pos;
  }
}

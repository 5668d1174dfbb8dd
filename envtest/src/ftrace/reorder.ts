/**
 * Puts the events of one hook into one non-decreasing timestamp order. The reader returns each
 * CPU's events in order, but not the CPUs' streams merged, and an event can still be on its way
 * into a CPU's buffer when a poll runs (stamped, not yet committed). So events wait here until
 * a watermark passes them: the batches that leave are sorted, and nothing released later is
 * older than the watermark already promised — except an event committed later than the slack
 * allows, which is released at once and counted (`late`): the consumer then handles it as late
 * (the host's merge counts it, the guest's agent clamps it and counts that).
 */
import type { HookEvent } from './convert.js';

/** Counters of a {@link Reorder}. */
export interface ReorderStats {
  /** Events waiting for the watermark. */
  pending: number;
  /** Events that arrived below a watermark already released (released at once, out of order). */
  late: number;
  /** Events released early because the pending bound was reached. */
  forced: number;
  /** How far below the released watermark the latest of the `late` events came, ns (0: none). */
  maxLateNs: bigint;
}

const byTs = (a: HookEvent, b: HookEvent): number => (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : 0);

/** The reordering buffer of one hook thread. */
export class Reorder {
  #pending: HookEvent[] = [];
  #sorted = true;
  #released: bigint | undefined;
  #late = 0;
  #forced = 0;
  #maxLateNs = 0n;
  readonly #maxPending: number;

  /** @param maxPending - bound on waiting events; beyond it the oldest are released early (default 1 000 000). */
  constructor(maxPending = 1_000_000) {
    this.#maxPending = maxPending;
  }

  /** The watermark released so far (undefined before the first release). */
  get watermark(): bigint | undefined {
    return this.#released;
  }

  /** Add events (any order). */
  push(events: readonly HookEvent[]): void {
    const p = this.#pending;
    for (const e of events) {
      if (this.#sorted && p.length > 0 && e.ts < p[p.length - 1]!.ts) this.#sorted = false;
      p.push(e);
    }
  }

  /**
   * Everything at or below `watermark`, sorted (plus late arrivals below the previous watermark,
   * first), and the watermark actually promised: never lower than the last one.
   */
  release(watermark: bigint): { events: HookEvent[]; watermark: bigint } {
    const p = this.#pending;
    if (!this.#sorted) {
      // Array.prototype.sort is a stable merge sort that exploits sorted runs: each CPU's events
      // arrive as one run.
      p.sort(byTs);
      this.#sorted = true;
    }
    let wm = this.#released === undefined || watermark > this.#released ? watermark : this.#released;
    let cut = 0;
    while (cut < p.length && p[cut]!.ts <= wm) cut++;
    // Too much waiting (a CPU whose reads keep lagging): release the oldest beyond the bound.
    if (p.length - cut > this.#maxPending) {
      const extra = p.length - cut - this.#maxPending;
      cut += extra;
      this.#forced += extra;
      wm = p[cut - 1]!.ts;
    }
    if (this.#released !== undefined) {
      for (let i = 0; i < cut && p[i]!.ts < this.#released; i++) {
        this.#late++;
        const by = this.#released - p[i]!.ts;
        if (by > this.#maxLateNs) this.#maxLateNs = by;
      }
    }
    const events = p.splice(0, cut);
    this.#released = wm;
    return { events, watermark: wm };
  }

  /** Release everything (at the end): the watermark becomes the newest event's ts, or `floor`. */
  releaseAll(floor: bigint): { events: HookEvent[]; watermark: bigint } {
    const p = this.#pending;
    let top = floor;
    for (const e of p) if (e.ts > top) top = e.ts;
    return this.release(top);
  }

  /** Counters. */
  stats(): ReorderStats {
    return { pending: this.#pending.length, late: this.#late, forced: this.#forced, maxLateNs: this.#maxLateNs };
  }
}

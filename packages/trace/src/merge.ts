/**
 * Watermark merge: turns per-source streams of trace events, arriving with network delay, into
 * one stream in global timestamp order.
 *
 * @packageDocumentation
 */
import type { TraceEvent } from './schema.js';

/** Options of {@link WatermarkMerge}. */
export interface WatermarkMergeOptions {
  /**
   * How long (ns, host clock domain) an event may wait for slower sources before it is released
   * anyway. Bounds the stall one silent source can cause, and the latency of the timeline.
   * Default 100 ms.
   */
  latenessNs?: bigint;
  /**
   * Maximum number of buffered events. When a push would exceed it the oldest buffered events
   * are force-released (counted in {@link MergeStats.forced}). Default 100 000.
   */
  maxBuffered?: number;
  /** Host-domain monotonic clock in ns. Default `process.hrtime.bigint`. Injectable for tests. */
  now?: () => bigint;
  /**
   * Receives every LATE event: one whose `ts` is below the `ts` of an event already released,
   * so emitting it would break the order of the main stream. Late events are never part of
   * the main stream; they are counted per source and handed here (e.g. to log them or write
   * them to a side file). Called after the merge's state is updated, so it may call back into
   * the merge. It must not throw: an exception is rethrown asynchronously (an uncaught
   * exception) rather than lose events already taken out of the buffer.
   */
  onLate?: (event: TraceEvent) => void;
  /**
   * Register an unknown source on its first pushed event (default `true`). With `false`, events
   * of unregistered sources are merged but their source never holds back the timeline: use
   * this when registration follows connection lifetime (collector: `addSource` on connect,
   * `removeSource` on disconnect), so a stray batch arriving after `removeSource` cannot
   * resurrect a source that will never advance again.
   */
  autoAddSources?: boolean;
}

/** Counters and state of a {@link WatermarkMerge}. */
export interface MergeStats {
  /** Events given to `push` (including late ones). */
  pushed: number;
  /** Events emitted in the main stream (includes forced and flushed ones). */
  released: number;
  /** Events emitted because the buffer bound was hit, before their watermark/lateness slot. */
  forced: number;
  /** Late events (handed to `onLate`, not emitted). */
  late: number;
  /** Late events per source (sources stay here after removal). */
  lateBySource: Record<string, number>;
  /** Events currently buffered. */
  buffered: number;
  /** The configured bound on buffered events. */
  maxBuffered: number;
  /** `ts` of the last released event: anything pushed below it is late. `null` before any. */
  releasedTs: bigint | null;
  /** Watermark of every active source (`null`: registered, nothing delivered yet). */
  watermarks: Record<string, bigint | null>;
}

interface SourceState {
  /** Max ts delivered or promised; null until the source delivers anything. */
  watermark: bigint | null;
}

/** Total order on events: (ts, source, seq). Ties broken deterministically so runs reproduce. */
function before(a: TraceEvent, b: TraceEvent): boolean {
  if (a.ts !== b.ts) return a.ts < b.ts;
  if (a.source !== b.source) return a.source < b.source;
  return a.seq < b.seq;
}

/**
 * Array-backed binary min-heap of events keyed on (ts, source, seq). Hand-rolled with the
 * comparison inlined into sift loops (hole technique: one write per level) because it is on the
 * hot path at ≥100k events/s.
 */
class EventHeap {
  private readonly a: TraceEvent[] = [];

  get size(): number {
    return this.a.length;
  }

  peek(): TraceEvent | undefined {
    return this.a[0];
  }

  push(e: TraceEvent): void {
    const a = this.a;
    let i = a.length;
    a.push(e);
    while (i > 0) {
      const p = (i - 1) >> 1;
      const pe = a[p]!;
      if (!before(e, pe)) break;
      a[i] = pe;
      i = p;
    }
    a[i] = e;
  }

  pop(): TraceEvent | undefined {
    const a = this.a;
    const top = a[0];
    const last = a.pop();
    if (top === undefined || last === undefined || a.length === 0) return top;
    const n = a.length;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      let c = l;
      let ce = a[l]!;
      if (r < n) {
        const re = a[r]!;
        if (before(re, ce)) {
          c = r;
          ce = re;
        }
      }
      if (!before(ce, last)) break;
      a[i] = ce;
      i = c;
    }
    a[i] = last;
    return top;
  }
}

const DEFAULT_LATENESS_NS = 100_000_000n;
const DEFAULT_MAX_BUFFERED = 100_000;

/**
 * Merges trace events from several sources into one stream in global `ts` order.
 *
 * Model: each source delivers its events in non-decreasing `ts` order (one connection delivers
 * in order). A source's watermark is the max `ts` it has delivered (or promised with
 * {@link WatermarkMerge.advance}). A buffered event is released when
 * - its `ts` ≤ the minimum watermark over active sources (no active source can still send
 *   anything older), or
 * - its `ts` ≤ `now() − latenessNs` (so a silent source cannot stall the timeline), or
 * - the buffer holds more than `maxBuffered` events (the oldest are forced out), or
 * - {@link WatermarkMerge.flush} is called.
 *
 * The main stream is always in non-decreasing `ts` order (ties ordered by source, then seq).
 * An event pushed with `ts` below the last released `ts` is LATE: counted per source, handed to
 * `onLate`, and never emitted in the main stream.
 *
 * A source registered with no delivery yet has no watermark and holds back everything (up to
 * the lateness bound); an unregistered source is registered by its first pushed event (unless
 * `autoAddSources: false`). Removing
 * a source (guest disconnected) stops its watermark holding others back.
 *
 * The merge owns no timer: release-by-lateness happens in `push`, `advance` and `poll`. When
 * events may be buffered, call {@link WatermarkMerge.poll} at {@link WatermarkMerge.nextDeadline}
 * (or on a fixed tick).
 *
 * Methods that can release return the released events as a new array (possibly empty), in
 * order; the caller owns it.
 */
export class WatermarkMerge {
  private readonly heap = new EventHeap();
  private readonly sourceStates = new Map<string, SourceState>();
  private readonly lateCounts = new Map<string, number>();
  private readonly latenessNs: bigint;
  private readonly maxBuffered: number;
  private readonly now: () => bigint;
  private readonly onLate: ((event: TraceEvent) => void) | undefined;
  private readonly autoAdd: boolean;
  private releasedTs: bigint | null = null;
  private nPushed = 0;
  private nReleased = 0;
  private nForced = 0;
  private nLate = 0;

  /**
   * @param options - see {@link WatermarkMergeOptions}.
   * @throws RangeError if `latenessNs` is negative or `maxBuffered` is not a positive integer.
   */
  constructor(options: WatermarkMergeOptions = {}) {
    this.latenessNs = options.latenessNs ?? DEFAULT_LATENESS_NS;
    this.maxBuffered = options.maxBuffered ?? DEFAULT_MAX_BUFFERED;
    this.now = options.now ?? process.hrtime.bigint;
    this.onLate = options.onLate;
    this.autoAdd = options.autoAddSources ?? true;
    if (this.latenessNs < 0n) {
      throw new RangeError(`WatermarkMerge: latenessNs must be ≥ 0, got ${this.latenessNs}`);
    }
    if (!Number.isSafeInteger(this.maxBuffered) || this.maxBuffered < 1) {
      throw new RangeError(
        `WatermarkMerge: maxBuffered must be a positive integer, got ${this.maxBuffered}`,
      );
    }
  }

  /**
   * Register a source so that it holds back the timeline before it delivers anything (e.g. a
   * guest that just connected). No-op if already registered.
   *
   * @param source - source name.
   * @param watermark - initial watermark (host domain), if the source is known to have nothing
   *   older; omit to hold back everything until its first delivery or the lateness bound.
   */
  addSource(source: string, watermark?: bigint): void {
    if (this.sourceStates.has(source)) return;
    this.sourceStates.set(source, { watermark: watermark ?? null });
  }

  /**
   * Unregister a source (guest disconnected). Its buffered events stay and are released in
   * order; its watermark no longer holds others back. Events it pushes later re-register it.
   *
   * @returns events that became releasable.
   */
  removeSource(source: string): TraceEvent[] {
    if (!this.sourceStates.delete(source)) return [];
    return this.releaseReady([]);
  }

  /** Whether `source` is currently registered. */
  hasSource(source: string): boolean {
    return this.sourceStates.has(source);
  }

  /** Names of the registered sources. */
  get sources(): string[] {
    return [...this.sourceStates.keys()];
  }

  /** Number of buffered events. */
  get buffered(): number {
    return this.heap.size;
  }

  /**
   * Add events. Events may mix sources; per source they must be in non-decreasing `ts` order
   * (an out-of-order event is still handled, but may be late if its slot has been released).
   *
   * @returns events released by this push, in order.
   */
  push(events: readonly TraceEvent[]): TraceEvent[] {
    const out: TraceEvent[] = [];
    let late: TraceEvent[] | undefined;
    const heap = this.heap;
    const max = this.maxBuffered;
    // Cache the last source's state: batches are usually single-source.
    let lastSource: string | undefined;
    let st: SourceState | undefined;
    for (let i = 0; i < events.length; i++) {
      const e = events[i]!;
      this.nPushed++;
      if (e.source !== lastSource || st === undefined) {
        lastSource = e.source;
        st = this.sourceStates.get(e.source);
        if (st === undefined) {
          st = { watermark: null };
          // Not auto-adding: a detached state absorbs the watermark update harmlessly.
          if (this.autoAdd) this.sourceStates.set(e.source, st);
        }
      }
      if (st.watermark === null || e.ts > st.watermark) st.watermark = e.ts;
      if (this.releasedTs !== null && e.ts < this.releasedTs) {
        this.nLate++;
        this.lateCounts.set(e.source, (this.lateCounts.get(e.source) ?? 0) + 1);
        (late ??= []).push(e);
        continue;
      }
      heap.push(e);
      // Enforce the bound per event, not per batch, so one huge batch cannot overshoot it.
      if (heap.size > max) {
        this.nForced++;
        this.emit(heap.pop()!, out);
      }
    }
    this.releaseReady(out);
    if (late !== undefined) this.reportLate(late);
    return out;
  }

  /**
   * Raise a source's watermark without an event: a promise that it will send nothing with
   * `ts` below `watermark` (a heartbeat; see `TraceBatch.watermark`). Registers the source if
   * needed (ignored for an unknown source when `autoAddSources` is `false`). A watermark below the current one is ignored (watermarks never go back).
   *
   * @returns events that became releasable.
   */
  advance(source: string, watermark: bigint): TraceEvent[] {
    const st = this.sourceStates.get(source);
    if (st === undefined) {
      if (this.autoAdd) this.sourceStates.set(source, { watermark });
    } else if (st.watermark === null || watermark > st.watermark) st.watermark = watermark;
    return this.releaseReady([]);
  }

  /**
   * Release what the clock now allows (lateness bound). Call it periodically or at
   * {@link WatermarkMerge.nextDeadline}.
   *
   * @returns released events, in order.
   */
  poll(): TraceEvent[] {
    return this.releaseReady([]);
  }

  /**
   * Host-domain time (same clock as `now`) at which the oldest buffered event becomes
   * releasable by the lateness bound, or `undefined` if nothing is buffered. It may be released
   * earlier, when watermarks advance.
   */
  nextDeadline(): bigint | undefined {
    const top = this.heap.peek();
    return top === undefined ? undefined : top.ts + this.latenessNs;
  }

  /**
   * Release everything buffered, in order (shutdown). Later events below the last released
   * `ts` will be late.
   *
   * @returns all buffered events, in order.
   */
  flush(): TraceEvent[] {
    const out: TraceEvent[] = [];
    const heap = this.heap;
    while (heap.size > 0) this.emit(heap.pop()!, out);
    return out;
  }

  /** A snapshot of counters and state. */
  stats(): MergeStats {
    const watermarks: Record<string, bigint | null> = {};
    for (const [s, st] of this.sourceStates) {
      // defineProperty so a source named '__proto__' is an own key, not a prototype change.
      Object.defineProperty(watermarks, s, {
        value: st.watermark,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return {
      pushed: this.nPushed,
      released: this.nReleased,
      forced: this.nForced,
      late: this.nLate,
      lateBySource: Object.fromEntries(this.lateCounts),
      buffered: this.heap.size,
      maxBuffered: this.maxBuffered,
      releasedTs: this.releasedTs,
      watermarks,
    };
  }

  private emit(e: TraceEvent, out: TraceEvent[]): void {
    this.releasedTs = e.ts;
    this.nReleased++;
    out.push(e);
  }

  /** Pop every event at or below max(min watermark, now − lateness) into `out`. */
  private releaseReady(out: TraceEvent[]): TraceEvent[] {
    const heap = this.heap;
    if (heap.size === 0) return out;
    // Minimum watermark over active sources; with no active source nothing holds back.
    let holdAll = false;
    let minWm: bigint | null = null;
    for (const st of this.sourceStates.values()) {
      if (st.watermark === null) {
        holdAll = true;
        break;
      }
      if (minWm === null || st.watermark < minWm) minWm = st.watermark;
    }
    const cut = this.now() - this.latenessNs;
    let limit: bigint | null; // null: no limit
    if (holdAll) limit = cut;
    else if (minWm === null) limit = null;
    else limit = minWm > cut ? minWm : cut;
    for (;;) {
      const top = heap.peek();
      if (top === undefined || (limit !== null && top.ts > limit)) break;
      heap.pop();
      this.emit(top, out);
    }
    return out;
  }

  private reportLate(late: TraceEvent[]): void {
    const cb = this.onLate;
    if (cb === undefined) return;
    for (const e of late) {
      try {
        cb(e);
      } catch (err) {
        // Surfacing asynchronously keeps the merge consistent and the released events in the
        // caller's hands; a throwing onLate is a bug the user must see, not a silent drop.
        queueMicrotask(() => {
          throw err;
        });
      }
    }
  }
}

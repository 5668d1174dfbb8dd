/**
 * Watermark merge: turns per-source streams of trace events, arriving with network delay, into
 * one stream in global timestamp order.
 *
 * @packageDocumentation
 */
import { DEFAULT_MAX_RETIRED_SOURCES, RetiredSources } from './retention.js';
import { invalidArgument } from './errors.js';
import type { TraceEvent } from './schema.js';

/** Why the merge refused an event (see {@link WatermarkMergeOptions.onRejected}). */
export type RejectReason = 'future' | 'overflow';

/** Options of {@link WatermarkMerge}. */
export interface WatermarkMergeOptions {
  /**
   * How long (ns, host clock domain) an event may wait for slower sources before it is released
   * anyway. Bounds the stall one silent source can cause, and the latency of the timeline.
   * Default 100 ms.
   */
  latenessNs?: bigint;
  /**
   * Maximum number of buffered events, all sources (default 100 000). Each source may hold at
   * most its share, `max(minSourceShare, maxBuffered / sources)`: an event that would exceed
   * its source's share is dropped (that source's newest pays; counted per source as
   * `overflow`), so one source can neither evict the others' events nor move the released
   * timeline for them. Only when the shares' floor oversubscribes the bound (many sources) is
   * the global oldest force-released (counted in {@link MergeStats.forced}).
   */
  maxBuffered?: number;
  /** Floor of a source's share of `maxBuffered` (default min(1000, maxBuffered)). */
  minSourceShare?: number;
  /**
   * How far (ns) an event's `ts` may be ahead of `now()`, beyond its own error bound (itself
   * credited at most this much, since the source states it). Default `latenessNs + 1 s`. An
   * event further ahead is rejected and counted per source as `future`: accepted, it would drag
   * the released timeline ahead and make every other source's events late. Rejected rather
   * than clamped: a clamped event would sit at a time it did not happen, and a flood of them
   * would still pin the timeline to `now + margin`.
   */
  maxFutureNs?: bigint;
  /**
   * How many departed sources keep their own counters in {@link MergeStats} (default 1024);
   * older ones are folded into {@link MergeStats.otherSources}, so sources connecting under ever
   * new names cannot grow the merge's maps.
   */
  maxRetiredSources?: number;
  /** Receives every event refused as `future` or `overflow` (counted, not emitted). Must not throw. */
  onRejected?: (event: TraceEvent, reason: RejectReason) => void;
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
  /**
   * Release nothing (but by the buffer bound or `flush`) for this long after the merge is made,
   * ns (default 0). A collector restarted while its agents were sending sets it to cover their
   * reconnect: what they resend is older than anything the new collector has, and without the
   * hold the first events it released (its own, or a quicker guest's) would make the whole
   * resent backlog late. envtest's server uses 3 s.
   */
  startupHoldNs?: bigint;
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
  /** Late events per source (departed sources stay, up to `maxRetiredSources`). */
  lateBySource: Record<string, number>;
  /** Events rejected for a `ts` too far ahead of the host clock. */
  future: number;
  /** Future events per source (as `lateBySource`). */
  futureBySource: Record<string, number>;
  /** Events dropped because their source exceeded its share of the buffer. */
  overflow: number;
  /** Overflow per source (as `lateBySource`). */
  overflowBySource: Record<string, number>;
  /** Counters of departed sources no longer kept by name (beyond `maxRetiredSources`). */
  otherSources: { late: number; future: number; overflow: number };
  /** Events buffered now, per source. */
  bufferedBySource: Record<string, number>;
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

/** Per-source counters (registered, buffered or recently departed sources). */
interface SourceCounters {
  buffered: number;
  late: number;
  future: number;
  overflow: number;
}

/** Own-property record from a map (a source named '__proto__' stays an ordinary key). */
function record<V>(entries: Iterable<[string, V]>): Record<string, V> {
  const out: Record<string, V> = {};
  for (const [k, v] of entries) Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
  return out;
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
  readonly #a: TraceEvent[] = [];

  get size(): number {
    return this.#a.length;
  }

  peek(): TraceEvent | undefined {
    return this.#a[0];
  }

  push(e: TraceEvent): void {
    const a = this.#a;
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
    const a = this.#a;
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
 * - the buffer holds more than `maxBuffered` events although every source is within its share
 *   (the global oldest is forced out; see {@link WatermarkMergeOptions.maxBuffered}), or
 * - {@link WatermarkMerge.flush} is called.
 *
 * Defences against a hostile source (packages/trace/README.md, "Defences"): an event stamped
 * further ahead of `now()` than `maxFutureNs` (plus its capped error bound) is rejected
 * (`future`); a source over its share of the buffer loses its own newest events (`overflow`);
 * per-source counters of departed sources are bounded (`maxRetiredSources`).
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
  readonly #heap = new EventHeap();
  readonly #sourceStates = new Map<string, SourceState>();
  readonly #counters = new Map<string, SourceCounters>();
  readonly #retired: RetiredSources;
  readonly #other = { late: 0, future: 0, overflow: 0 };
  readonly #latenessNs: bigint;
  readonly #maxBuffered: number;
  readonly #minShare: number;
  readonly #maxFutureNs: bigint;
  readonly #now: () => bigint;
  readonly #onLate: ((event: TraceEvent) => void) | undefined;
  readonly #onRejected: ((event: TraceEvent, reason: RejectReason) => void) | undefined;
  readonly #autoAdd: boolean;
  #releasedTs: bigint | null = null;
  /** Host time before which nothing is released by watermark or lateness (startupHoldNs). */
  #holdUntil: bigint | null = null;
  /** Sources with at least one buffered event. */
  #nBufferedSources = 0;
  #nPushed = 0;
  #nReleased = 0;
  #nForced = 0;
  #nLate = 0;
  #nFuture = 0;
  #nOverflow = 0;

  /**
   * @param options - see {@link WatermarkMergeOptions}.
   * @throws RangeError if `latenessNs` is negative or `maxBuffered` is not a positive integer.
   */
  constructor(options: WatermarkMergeOptions = {}) {
    this.#latenessNs = options.latenessNs ?? DEFAULT_LATENESS_NS;
    this.#maxBuffered = options.maxBuffered ?? DEFAULT_MAX_BUFFERED;
    this.#now = options.now ?? process.hrtime.bigint;
    this.#onLate = options.onLate;
    this.#onRejected = options.onRejected;
    this.#autoAdd = options.autoAddSources ?? true;
    this.#minShare = Math.min(this.#maxBuffered, options.minSourceShare ?? 1000);
    this.#maxFutureNs = options.maxFutureNs ?? this.#latenessNs + 1_000_000_000n;
    this.#retired = new RetiredSources(options.maxRetiredSources ?? DEFAULT_MAX_RETIRED_SOURCES);
    if (options.startupHoldNs !== undefined && options.startupHoldNs > 0n) this.#holdUntil = this.#now() + options.startupHoldNs;
    if (this.#maxFutureNs < 0n) throw invalidArgument(`WatermarkMerge: maxFutureNs must be ≥ 0, got ${this.#maxFutureNs}`);
    if (this.#latenessNs < 0n) {
      throw invalidArgument(`WatermarkMerge: latenessNs must be ≥ 0, got ${this.#latenessNs}`);
    }
    if (!Number.isSafeInteger(this.#maxBuffered) || this.#maxBuffered < 1) {
      throw invalidArgument(`WatermarkMerge: maxBuffered must be a positive integer, got ${this.#maxBuffered}`);
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
    if (this.#sourceStates.has(source)) return;
    this.#retired.revive(source);
    this.#sourceStates.set(source, { watermark: watermark === undefined ? null : this.#capWatermark(watermark) });
  }

  /**
   * Unregister a source (guest disconnected). Its buffered events stay and are released in
   * order; its watermark no longer holds others back. Events it pushes later re-register it.
   *
   * @returns events that became releasable.
   */
  removeSource(source: string): TraceEvent[] {
    if (!this.#sourceStates.delete(source)) return [];
    const c = this.#counters.get(source);
    if (c !== undefined) this.#maybeRetire(source, c);
    return this.#releaseReady([]);
  }

  /** Whether `source` is currently registered. */
  hasSource(source: string): boolean {
    return this.#sourceStates.has(source);
  }

  /** Names of the registered sources. */
  get sources(): string[] {
    return [...this.#sourceStates.keys()];
  }

  /** Number of buffered events. */
  get buffered(): number {
    return this.#heap.size;
  }

  /** Number of buffered events of `source`. */
  bufferedOf(source: string): number {
    return this.#counters.get(source)?.buffered ?? 0;
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
    let rejected: [TraceEvent, RejectReason][] | undefined;
    const heap = this.#heap;
    const max = this.#maxBuffered;
    const now = this.#now();
    const maxFuture = this.#maxFutureNs;
    // Cache the last source's state: batches are usually single-source.
    let lastSource: string | undefined;
    let st: SourceState | undefined;
    let c: SourceCounters | undefined;
    let share = 0;
    for (let i = 0; i < events.length; i++) {
      const e = events[i]!;
      this.#nPushed++;
      if (e.source !== lastSource || st === undefined || c === undefined) {
        lastSource = e.source;
        st = this.#sourceStates.get(e.source);
        if (st === undefined) {
          st = { watermark: null };
          // Not auto-adding: a detached state absorbs the watermark update harmlessly.
          if (this.#autoAdd) {
            this.#retired.revive(e.source);
            this.#sourceStates.set(e.source, st);
          }
        }
        c = this.#counter(e.source);
        share = this.#share();
      }
      // A source's clock is not trusted: its own error bound is credited at most maxFuture.
      const bound = e.errorBoundNs < maxFuture ? e.errorBoundNs : maxFuture;
      if (e.ts - now > maxFuture + bound) {
        this.#nFuture++;
        c.future++;
        (rejected ??= []).push([e, 'future']);
        this.#maybeRetire(e.source, c);
        continue;
      }
      if (st.watermark === null || e.ts > st.watermark) st.watermark = e.ts;
      if (this.#releasedTs !== null && e.ts < this.#releasedTs) {
        this.#nLate++;
        c.late++;
        (late ??= []).push(e);
        this.#maybeRetire(e.source, c);
        continue;
      }
      if (c.buffered >= share) {
        // Over its share: this source's newest pays, nobody else's events (see maxBuffered).
        this.#nOverflow++;
        c.overflow++;
        (rejected ??= []).push([e, 'overflow']);
        continue;
      }
      heap.push(e);
      if (c.buffered++ === 0) {
        this.#nBufferedSources++;
        share = this.#share();
      }
      // Enforce the bound per event, not per batch, so one huge batch cannot overshoot it.
      if (heap.size > max) {
        this.#nForced++;
        this.#emit(heap.pop()!, out);
      }
    }
    this.#releaseReady(out);
    if (late !== undefined) this.#reportLate(late);
    if (rejected !== undefined) this.#reportRejected(rejected);
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
    watermark = this.#capWatermark(watermark);
    const st = this.#sourceStates.get(source);
    if (st === undefined) {
      if (this.#autoAdd) {
        this.#retired.revive(source);
        this.#sourceStates.set(source, { watermark });
      }
    } else if (st.watermark === null || watermark > st.watermark) st.watermark = watermark;
    return this.#releaseReady([]);
  }

  /**
   * Release what the clock now allows (lateness bound). Call it periodically or at
   * {@link WatermarkMerge.nextDeadline}.
   *
   * @returns released events, in order.
   */
  poll(): TraceEvent[] {
    return this.#releaseReady([]);
  }

  /**
   * Host-domain time (same clock as `now`) at which the oldest buffered event becomes
   * releasable by the lateness bound, or `undefined` if nothing is buffered. It may be released
   * earlier, when watermarks advance.
   */
  nextDeadline(): bigint | undefined {
    const top = this.#heap.peek();
    if (top === undefined) return undefined;
    const byLateness = top.ts + this.#latenessNs;
    return this.#holdUntil !== null && this.#holdUntil > byLateness ? this.#holdUntil : byLateness;
  }

  /**
   * Release everything buffered, in order (shutdown). Later events below the last released
   * `ts` will be late.
   *
   * @returns all buffered events, in order.
   */
  flush(): TraceEvent[] {
    const out: TraceEvent[] = [];
    const heap = this.#heap;
    while (heap.size > 0) this.#emit(heap.pop()!, out);
    return out;
  }

  /** A snapshot of counters and state. */
  stats(): MergeStats {
    // record(): a source named '__proto__' is an own key, not a prototype change.
    const watermarks = record([...this.#sourceStates].map(([s, st]) => [s, st.watermark] as [string, bigint | null]));
    const by = (k: 'late' | 'future' | 'overflow' | 'buffered') =>
      record([...this.#counters].filter(([, c]) => c[k] > 0).map(([s, c]) => [s, c[k]] as [string, number]));
    return {
      pushed: this.#nPushed,
      released: this.#nReleased,
      forced: this.#nForced,
      late: this.#nLate,
      lateBySource: by('late'),
      future: this.#nFuture,
      futureBySource: by('future'),
      overflow: this.#nOverflow,
      overflowBySource: by('overflow'),
      otherSources: { ...this.#other },
      bufferedBySource: by('buffered'),
      buffered: this.#heap.size,
      maxBuffered: this.#maxBuffered,
      releasedTs: this.#releasedTs,
      watermarks,
    };
  }

  #emit(e: TraceEvent, out: TraceEvent[]): void {
    this.#releasedTs = e.ts;
    this.#nReleased++;
    const c = this.#counters.get(e.source);
    if (c !== undefined && --c.buffered === 0) {
      this.#nBufferedSources--;
      this.#maybeRetire(e.source, c);
    }
    out.push(e);
  }

  #counter(source: string): SourceCounters {
    let c = this.#counters.get(source);
    if (c === undefined) {
      c = { buffered: 0, late: 0, future: 0, overflow: 0 };
      this.#counters.set(source, c);
    }
    return c;
  }

  /** A source's share of the buffer: the bound split between the sources present, with a floor. */
  #share(): number {
    const n = Math.max(1, this.#sourceStates.size, this.#nBufferedSources);
    return Math.max(this.#minShare, Math.floor(this.#maxBuffered / n));
  }

  /** A watermark no further ahead than an event could be: a forged one is harmless but absurd. */
  #capWatermark(watermark: bigint): bigint {
    const cap = this.#now() + this.#maxFutureNs;
    return watermark > cap ? cap : watermark;
  }

  /** An unregistered source with nothing buffered is departed: keep its counters, bounded. */
  #maybeRetire(source: string, c: SourceCounters): void {
    if (c.buffered > 0 || this.#sourceStates.has(source) || this.#retired.has(source)) return;
    for (const gone of this.#retired.retire(source)) {
      const g = this.#counters.get(gone);
      if (g === undefined) continue;
      this.#other.late += g.late;
      this.#other.future += g.future;
      this.#other.overflow += g.overflow;
      this.#counters.delete(gone);
    }
  }

  #reportRejected(rejected: [TraceEvent, RejectReason][]): void {
    const cb = this.#onRejected;
    if (cb === undefined) return;
    for (const [e, reason] of rejected) {
      try {
        cb(e, reason);
      } catch (err) {
        queueMicrotask(() => {
          throw err;
        });
      }
    }
  }

  /** Pop every event at or below max(min watermark, now − lateness) into `out`. */
  #releaseReady(out: TraceEvent[]): TraceEvent[] {
    const heap = this.#heap;
    if (heap.size === 0) return out;
    if (this.#holdUntil !== null) {
      if (this.#now() < this.#holdUntil) return out;
      this.#holdUntil = null;
    }
    // Minimum watermark over active sources; with no active source nothing holds back.
    let holdAll = false;
    let minWm: bigint | null = null;
    for (const st of this.#sourceStates.values()) {
      if (st.watermark === null) {
        holdAll = true;
        break;
      }
      if (minWm === null || st.watermark < minWm) minWm = st.watermark;
    }
    const cut = this.#now() - this.#latenessNs;
    let limit: bigint | null; // null: no limit
    if (holdAll) limit = cut;
    else if (minWm === null) limit = null;
    else limit = minWm > cut ? minWm : cut;
    for (;;) {
      const top = heap.peek();
      if (top === undefined || (limit !== null && top.ts > limit)) break;
      heap.pop();
      this.#emit(top, out);
    }
    return out;
  }

  #reportLate(late: TraceEvent[]): void {
    const cb = this.#onLate;
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

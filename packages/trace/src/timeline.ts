/**
 * The host's timeline: a {@link WatermarkMerge} with a timer, per-source accounting and an
 * output (callback and/or async iterator). No I/O, so it runs wherever the events are: inside
 * a {@link Collector}, or in a separate thread fed by one.
 *
 * @packageDocumentation
 */
import { WatermarkMerge } from './merge.js';
import type { TraceAgentStatus, TraceClockReport } from './registry.js';
import { DEFAULT_MAX_RETIRED_SOURCES, RetiredSources } from './retention.js';
import { eventsFromBatch, type TraceBatch, type TraceEvent } from './schema.js';
import { SequenceTracker } from './sequence.js';

/**
 * Largest value kept of a counter a guest reports: ~10^12, more than any real agent counts in
 * years, small enough that sums stay exact. A claim above it is shown as this bound.
 */
export const MAX_GUEST_COUNTER = 1_000_000_000_000;
/** Largest clock offset or error bound a guest report is shown with (1 day, ns). */
const MAX_GUEST_CLOCK_NS = 86_400_000_000_000n;

function clampCount(n: number, max = MAX_GUEST_COUNTER): number {
  return Number.isFinite(n) ? Math.min(Math.max(0, Math.trunc(n)), max) : 0;
}

function clampNs(n: bigint, min: bigint): bigint {
  return n > MAX_GUEST_CLOCK_NS ? MAX_GUEST_CLOCK_NS : n < min ? min : n;
}

/**
 * A guest's status report made presentable: `source` replaced by the verified name, counters
 * clamped to [0, {@link MAX_GUEST_COUNTER}] (and `sent`, `dropped`, `clamped` to `emitted`),
 * clock values to ±1 day. What remains is still only the guest's claim.
 */
export function clampGuestStatus(source: string, status: TraceAgentStatus): TraceAgentStatus {
  const emitted = clampCount(status.emitted);
  const out: TraceAgentStatus = {
    source,
    emitted,
    sent: clampCount(status.sent, emitted),
    dropped: clampCount(status.dropped, emitted),
    clamped: clampCount(status.clamped, emitted),
  };
  const c = status.clock;
  if (c !== undefined) {
    const clock: TraceClockReport = {
      offsetNs: clampNs(c.offsetNs, -MAX_GUEST_CLOCK_NS),
      errorBoundNs: clampNs(c.errorBoundNs, 0n),
      driftPpm: Number.isFinite(c.driftPpm) ? Math.min(Math.max(c.driftPpm, -1e6), 1e6) : 0,
      lastSyncAgeMs: Number.isFinite(c.lastSyncAgeMs) ? Math.min(Math.max(c.lastSyncAgeMs, -1), 1e12) : -1,
    };
    out.clock = clock;
  }
  return out;
}

/** Options of a {@link Timeline}. */
export interface TimelineOptions {
  /** Longest an event waits for slower sources, ns (default 500 ms). See `WatermarkMergeOptions`. */
  latenessNs?: bigint;
  /** Bound on events buffered in the merge (default 100 000). */
  maxBuffered?: number;
  /** Host clock, ns (default `process.hrtime.bigint`). */
  now?: () => bigint;
  /** Receives released events, in timeline order, one array per release. Must not throw. */
  onEvents?: (events: TraceEvent[]) => void;
  /** Receives late events (ts below what was already released); they are not in the main stream. */
  onLate?: (event: TraceEvent) => void;
  /** Bound on events waiting for the async iterator (default 100 000); more are dropped and counted. */
  maxQueued?: number;
  /** Release nothing for this long after start, ns (default 0): see `WatermarkMergeOptions.startupHoldNs`. */
  startupHoldNs?: bigint;
  /** How far ahead of the host clock an event may be (see `WatermarkMergeOptions.maxFutureNs`). */
  maxFutureNs?: bigint;
  /** Floor of a source's share of the merge buffer (see `WatermarkMergeOptions.minSourceShare`). */
  minSourceShare?: number;
  /**
   * Largest forward jump of a source's `seq` counted as missing events (default 2^20); a bigger
   * one is one `seqJumps` anomaly (see `SequenceTrackerOptions.maxSeqGap`).
   */
  maxSeqGap?: number;
  /** Departed sources whose stats (and dedup state) are kept by name (default 1024); older ones are folded into `otherSources`. */
  maxRetiredSources?: number;
}

/**
 * Accounting of one source. Everything but `agent` is measured by the host; `agent` is what
 * the guest claims about itself.
 */
export interface SourceStats {
  /** Events received and merged (late ones included; duplicates not). */
  events: number;
  /** Late events (received, counted, kept out of the ordered stream). */
  late: number;
  /** Events rejected because their `ts` was too far ahead of the host clock. */
  future: number;
  /** Events dropped because the source exceeded its share of the merge buffer. */
  overflow: number;
  /** Events received again (seq already received, e.g. resent after a reconnect); not merged twice. */
  duplicates: number;
  /** Events missing according to `seq` (plausible gaps: lost in transit or inside the guest). */
  seqGaps: number;
  /** Implausibly large `seq` jumps (each one anomaly, not counted in `seqGaps`). */
  seqJumps: number;
  /** Last `seq` received. */
  lastSeq: number | undefined;
  /** Last position acknowledged to the source (everything ≤ it accounted for). */
  acked: number | undefined;
  /** Whether the source is registered now (a connected guest, or a local source). */
  active: boolean;
  /**
   * The guest's last status report, AS THE GUEST CLAIMS IT (clamped, see
   * {@link clampGuestStatus}); never mix it into host-measured counters.
   */
  agent: TraceAgentStatus | undefined;
}

/** Counters of a {@link Timeline}. */
export interface TimelineStats {
  /** Per source, including sources that left. */
  bySource: Record<string, SourceStats>;
  /** Events received, all sources. */
  received: number;
  /** Events released in the main stream. */
  released: number;
  /** Late events. */
  late: number;
  /** Events released early because the merge buffer was full. */
  forced: number;
  /** Events buffered in the merge now. */
  buffered: number;
  /** Events dropped by the timeline: the async iterator's queue was full, or pushed after close. */
  dropped: number;
  /** Events rejected for a `ts` too far in the future (host-measured, all sources). */
  future: number;
  /** Events dropped because their source exceeded its buffer share (host-measured). */
  overflow: number;
  /** Duplicate events discarded (host-measured). */
  duplicates: number;
  /** Missing events by seq, all sources (host-measured, plausible gaps only). */
  seqGaps: number;
  /** Implausible seq jumps, all sources. */
  seqJumps: number;
  /**
   * Sum of the drops the agents REPORT (guest claims, clamped per guest; events that never left
   * their guest). Not host-measured: show it labelled as the guests' claim, apart from `dropped`.
   */
  agentDropped: number;
  /** Counters of departed sources no longer kept by name (beyond `maxRetiredSources`). */
  otherSources: { sources: number; events: number; late: number; future: number; overflow: number; duplicates: number; seqGaps: number; seqJumps: number };
}

/** One cumulative acknowledgement to send: everything of `source` up to `seq` is accounted for. */
export interface SourceAck {
  source: string;
  seq: number;
}

interface SourceEntry extends Omit<SourceStats, 'seqGaps' | 'seqJumps' | 'duplicates' | 'late' | 'future' | 'overflow' | 'acked'> {
  seq: SequenceTracker;
  /** seq of the source's last released event. */
  lastReleased: number | undefined;
  /** Acknowledge this source (a guest fed through pushBatch). */
  acks: boolean;
}

/**
 * Merged timeline of many sources. Sources follow connection lifetime
 * ({@link Timeline.addSource} on connect, {@link Timeline.removeSource} on disconnect): the
 * merge runs with `autoAddSources: false`, so a stray batch after a disconnect cannot make a
 * source that will never advance again hold back everyone else.
 */
export class Timeline {
  readonly #merge: WatermarkMerge;
  readonly #now: () => bigint;
  readonly #onEvents: ((events: TraceEvent[]) => void) | undefined;
  readonly #onLate: ((event: TraceEvent) => void) | undefined;
  readonly #maxQueued: number;
  readonly #sources = new Map<string, SourceEntry>();
  readonly #retired: RetiredSources;
  readonly #maxSeqGap: number | undefined;
  readonly #other = { sources: 0, events: 0, late: 0, future: 0, overflow: 0, duplicates: 0, seqGaps: 0, seqJumps: 0 };
  #timer: NodeJS.Timeout | undefined;
  #timerDue: bigint | undefined;
  #received = 0;
  #dropped = 0;
  #closed = false;
  #queue: TraceEvent[] | undefined;
  #queueHead = 0;
  #wake: (() => void) | undefined;

  constructor(options: TimelineOptions = {}) {
    this.#now = options.now ?? process.hrtime.bigint;
    this.#onEvents = options.onEvents;
    this.#onLate = options.onLate;
    this.#maxQueued = Math.max(1, options.maxQueued ?? 100_000);
    this.#maxSeqGap = options.maxSeqGap;
    this.#retired = new RetiredSources(options.maxRetiredSources ?? DEFAULT_MAX_RETIRED_SOURCES);
    this.#merge = new WatermarkMerge({
      latenessNs: options.latenessNs ?? 500_000_000n,
      maxBuffered: options.maxBuffered,
      now: this.#now,
      autoAddSources: false,
      startupHoldNs: options.startupHoldNs,
      maxFutureNs: options.maxFutureNs,
      minSourceShare: options.minSourceShare,
      // The merge keeps late/future/overflow per source with the same bound as ours.
      maxRetiredSources: options.maxRetiredSources,
      onLate: (e) => this.#onLate?.(e),
    });
  }

  /** Register a source (a guest connected, or a local producer started). */
  addSource(source: string, watermark?: bigint): void {
    this.#retired.revive(source);
    this.#source(source).active = true;
    this.#merge.addSource(source, watermark);
  }

  /**
   * Unregister a source: it no longer holds back the timeline; its buffered events stay and
   * flow out in order. Its stats and dedup state are kept (a reconnect under the same name
   * resumes them), for at most `maxRetiredSources` departed sources.
   */
  removeSource(source: string): void {
    const st = this.#sources.get(source);
    if (st) {
      st.active = false;
      for (const gone of this.#retired.retire(source)) this.#fold(gone);
    }
    this.#out(this.#merge.removeSource(source));
  }

  /** Whether `source` is registered now. */
  hasSource(source: string): boolean {
    return this.#merge.hasSource(source);
  }

  /**
   * Add a batch received from `source`. `source` is the verified peer name: it replaces
   * whatever the batch claims. An empty batch with a watermark is a heartbeat.
   */
  pushBatch(source: string, batch: TraceBatch): void {
    const st = this.#source(source);
    st.acks = true;
    // A batch from a source that is not registered (a stray one after a disconnect) must not
    // make it a permanent map entry: it counts as departed at once.
    if (!st.active && !this.#retired.has(source)) for (const gone of this.#retired.retire(source)) this.#fold(gone);
    if (batch.events.length > 0) this.#push(eventsFromBatch(batch, source));
    if (batch.watermark !== undefined && !this.#closed) this.#out(this.#merge.advance(source, batch.watermark));
  }

  /**
   * Add events produced on the host (`ts` = `origTs` on the host clock). They must be in
   * non-decreasing `ts` order per source; their sources should be registered with
   * {@link addSource} (else they never hold the timeline back and may come late).
   *
   * @param watermark - optional promise: no later event of these sources has `ts` below it
   *   (an idle local source uses {@link advance} instead).
   */
  addLocal(events: readonly TraceEvent[], watermark?: bigint): void {
    if (events.length > 0) this.#push(events);
    if (watermark !== undefined && !this.#closed) {
      const seen = new Set<string>();
      for (const e of events) seen.add(e.source);
      for (const s of seen) this.#out(this.#merge.advance(s, watermark));
    }
  }

  /** Raise a source's watermark (see `WatermarkMerge.advance`). */
  advance(source: string, watermark: bigint): void {
    if (!this.#closed) this.#out(this.#merge.advance(source, watermark));
  }

  /**
   * Record an agent's status report (its drops and clock): a claim, kept clamped and apart from
   * what the host measured (see {@link clampGuestStatus}).
   */
  setAgentStatus(source: string, status: TraceAgentStatus): void {
    this.#source(source).agent = clampGuestStatus(source, status);
  }

  /**
   * The acknowledgements due: for each guest source whose position advanced since the last
   * call, the highest `seq` up to which every event is accounted for (released to `onEvents`,
   * or counted as late, future, overflow or duplicate). Call it on a timer (coalescing) and
   * send each as a `traceAck` to that source's connection.
   */
  takeAcks(): SourceAck[] {
    const acks: SourceAck[] = [];
    for (const [source, st] of this.#sources) {
      if (!st.acks) continue;
      const seq = st.seq.ackPosition(this.#merge.bufferedOf(source), st.lastReleased);
      if (seq !== undefined) acks.push({ source, seq });
    }
    return acks;
  }

  /** Release everything buffered, in order. */
  flush(): void {
    this.#out(this.#merge.flush());
  }

  /** Flush, stop the timer and end the async iterator. Later pushes are dropped and counted. */
  close(): void {
    if (this.#closed) return;
    this.flush();
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#wake?.();
  }

  /**
   * The merged events, one at a time, until {@link close}. Events released before the first
   * call are not replayed. Bounded: past `maxQueued` waiting events, new ones are dropped and
   * counted (a slow consumer must not grow the host's memory without bound).
   */
  async *events(): AsyncGenerator<TraceEvent> {
    this.#queue ??= [];
    for (;;) {
      const q = this.#queue;
      if (this.#queueHead < q.length) {
        const e = q[this.#queueHead]!;
        q[this.#queueHead++] = undefined as unknown as TraceEvent; // let it be collected
        if (this.#queueHead > 4096 && this.#queueHead * 2 > q.length) {
          q.splice(0, this.#queueHead);
          this.#queueHead = 0;
        }
        yield e;
        continue;
      }
      if (this.#closed) return;
      await new Promise<void>((resolve) => (this.#wake = resolve));
      this.#wake = undefined;
    }
  }

  /** Counters (a snapshot). */
  stats(): TimelineStats {
    const m = this.#merge.stats();
    const bySource: Record<string, SourceStats> = {};
    let agentDropped = 0;
    let duplicates = this.#other.duplicates;
    let seqGaps = this.#other.seqGaps;
    let seqJumps = this.#other.seqJumps;
    for (const [s, st] of this.#sources) {
      const v = this.#sourceStats(s, st, m);
      Object.defineProperty(bySource, s, { value: v, enumerable: true, writable: true, configurable: true });
      agentDropped += v.agent?.dropped ?? 0;
      duplicates += v.duplicates;
      seqGaps += v.seqGaps;
      seqJumps += v.seqJumps;
    }
    return {
      bySource,
      received: this.#received,
      released: m.released,
      late: m.late,
      forced: m.forced,
      buffered: m.buffered,
      dropped: this.#dropped,
      future: m.future,
      overflow: m.overflow,
      duplicates,
      seqGaps,
      seqJumps,
      agentDropped,
      otherSources: { ...this.#other, late: m.otherSources.late, future: m.otherSources.future, overflow: m.otherSources.overflow },
    };
  }

  #sourceStats(source: string, st: SourceEntry, m: ReturnType<WatermarkMerge['stats']>): SourceStats {
    const own = (r: Record<string, number>) => (Object.prototype.hasOwnProperty.call(r, source) ? r[source]! : 0);
    return {
      events: st.events,
      late: own(m.lateBySource),
      future: own(m.futureBySource),
      overflow: own(m.overflowBySource),
      duplicates: st.seq.duplicates,
      seqGaps: st.seq.seqGaps,
      seqJumps: st.seq.seqJumps,
      lastSeq: st.lastSeq,
      acked: st.seq.acked,
      active: st.active,
      agent: st.agent,
    };
  }

  /** Forget a long-departed source by name, keeping its counts in the aggregate. */
  #fold(source: string): void {
    const st = this.#sources.get(source);
    if (st === undefined) return;
    const o = this.#other;
    o.sources++;
    o.events += st.events;
    o.duplicates += st.seq.duplicates;
    o.seqGaps += st.seq.seqGaps;
    o.seqJumps += st.seq.seqJumps;
    // late/future/overflow: the merge folds its own per-source counters (same bound); stats() adds them.
    this.#sources.delete(source);
  }

  #source(name: string): SourceEntry {
    let st = this.#sources.get(name);
    if (st === undefined) {
      st = {
        events: 0,
        lastSeq: undefined,
        active: false,
        agent: undefined,
        seq: new SequenceTracker({ maxSeqGap: this.#maxSeqGap }),
        lastReleased: undefined,
        acks: false,
      };
      this.#sources.set(name, st);
    }
    return st;
  }

  #push(events: readonly TraceEvent[]): void {
    if (this.#closed) {
      this.#dropped += events.length;
      return;
    }
    let name: string | undefined;
    let st: SourceEntry | undefined;
    let fresh: TraceEvent[] | undefined; // only when a duplicate forces a copy
    for (let i = 0; i < events.length; i++) {
      const e = events[i]!;
      if (e.source !== name || st === undefined) {
        name = e.source;
        st = this.#source(name);
      }
      if (st.seq.accept(e.seq) === 'duplicate') {
        fresh ??= events.slice(0, i);
        continue;
      }
      fresh?.push(e);
      st.events++;
      st.lastSeq = e.seq;
    }
    const accepted = fresh ?? events;
    this.#received += accepted.length;
    this.#out(accepted.length > 0 ? this.#merge.push(accepted) : []);
  }

  #out(released: TraceEvent[]): void {
    if (released.length > 0) {
      // Per source, released events come out in seq order: remember the last for acks.
      let name: string | undefined;
      let st: SourceEntry | undefined;
      for (const e of released) {
        if (e.source !== name || st === undefined) {
          name = e.source;
          st = this.#sources.get(name);
        }
        if (st !== undefined) st.lastReleased = e.seq;
      }
      this.#onEvents?.(released);
      const q = this.#queue;
      if (q !== undefined) {
        const room = this.#maxQueued - (q.length - this.#queueHead);
        if (room < released.length) this.#dropped += released.length - Math.max(0, room);
        for (let i = 0; i < Math.min(room, released.length); i++) q.push(released[i]!);
        this.#wake?.();
      }
    }
    this.#schedule();
  }

  /** Poll the merge when its oldest buffered event reaches the lateness bound. */
  #schedule(): void {
    if (this.#closed) return;
    const due = this.#merge.nextDeadline();
    if (due === undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
      this.#timerDue = undefined;
      return;
    }
    if (this.#timer !== undefined && this.#timerDue !== undefined && this.#timerDue <= due) return;
    clearTimeout(this.#timer);
    const ms = Math.max(1, Math.ceil(Number(due - this.#now()) / 1e6));
    this.#timerDue = due;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#timerDue = undefined;
      this.#out(this.#merge.poll());
    }, ms);
  }
}

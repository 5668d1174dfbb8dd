/**
 * The host's timeline: a {@link WatermarkMerge} with a timer, per-source accounting and an
 * output (callback and/or async iterator). No I/O, so it runs wherever the events are: inside
 * a {@link Collector}, or in a separate thread fed by one.
 *
 * @packageDocumentation
 */
import { WatermarkMerge } from './merge.js';
import type { TraceAgentStatus } from './registry.js';
import { eventsFromBatch, type TraceBatch, type TraceEvent } from './schema.js';

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
}

/** Accounting of one source. */
export interface SourceStats {
  /** Events received (pushed into the merge, late ones included). */
  events: number;
  /** Late events. */
  late: number;
  /** Events missing according to `seq` (gaps: lost in transit or on a reconnect). */
  seqGaps: number;
  /** Last `seq` seen. */
  lastSeq: number | undefined;
  /** Whether the source is registered now (a connected guest, or a local source). */
  active: boolean;
  /** The agent's last status report (guests only). */
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
  /** Sum of the agents' reported drops (events that never left their guest). */
  agentDropped: number;
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
  readonly #sources = new Map<string, SourceStats>();
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
    this.#merge = new WatermarkMerge({
      latenessNs: options.latenessNs ?? 500_000_000n,
      maxBuffered: options.maxBuffered,
      now: this.#now,
      autoAddSources: false,
      onLate: (e) => {
        this.#source(e.source).late++;
        this.#onLate?.(e);
      },
    });
  }

  /** Register a source (a guest connected, or a local producer started). */
  addSource(source: string, watermark?: bigint): void {
    this.#source(source).active = true;
    this.#merge.addSource(source, watermark);
  }

  /** Unregister a source: it no longer holds back the timeline; its buffered events stay. */
  removeSource(source: string): void {
    const st = this.#sources.get(source);
    if (st) st.active = false;
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

  /** Record an agent's status report (its drops and clock). */
  setAgentStatus(source: string, status: TraceAgentStatus): void {
    this.#source(source).agent = status;
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
    for (const [s, st] of this.#sources) {
      Object.defineProperty(bySource, s, { value: { ...st }, enumerable: true, writable: true, configurable: true });
      agentDropped += st.agent?.dropped ?? 0;
    }
    return {
      bySource,
      received: this.#received,
      released: m.released,
      late: m.late,
      forced: m.forced,
      buffered: m.buffered,
      dropped: this.#dropped,
      agentDropped,
    };
  }

  #source(name: string): SourceStats {
    let st = this.#sources.get(name);
    if (st === undefined) {
      st = { events: 0, late: 0, seqGaps: 0, lastSeq: undefined, active: false, agent: undefined };
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
    let st: SourceStats | undefined;
    for (const e of events) {
      if (e.source !== name || st === undefined) {
        name = e.source;
        st = this.#source(name);
      }
      st.events++;
      if (st.lastSeq !== undefined && e.seq > st.lastSeq + 1) st.seqGaps += e.seq - st.lastSeq - 1;
      st.lastSeq = e.seq;
    }
    this.#received += events.length;
    this.#out(this.#merge.push(events));
  }

  #out(released: TraceEvent[]): void {
    if (released.length > 0) {
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

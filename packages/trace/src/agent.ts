/**
 * The guest side of tracing: a {@link TraceAgent} takes events from the traced program, stamps
 * them into the host's clock domain and ships them in batches.
 *
 * @packageDocumentation
 */
import { ClientEngine, formatAddress, type ClientEngineOptions, type TransportAddress } from '@vsock-rpc/engine';
import { TraceError } from './errors.js';
import { traceRegistry, type TraceAgentStatus, type TraceClockReport, type TraceRegistry } from './registry.js';
import { createLegacyTraceAgent, type LegacyTraceAgent, type LegacyTraceAgentOptions } from './legacy-agent.js';
import { MAX_BATCH_EVENTS, MAX_FIELD_NAME_LENGTH, MAX_FIELDS, MAX_TEXT_LENGTH, type TraceBatch, type TraceBatchEvent, type TraceFields } from './schema.js';

/** What the traced program hands to {@link TraceAgent.emit}. */
export interface AgentEvent {
  /** Timestamp on the agent's clock (ns). Default: the agent's clock now ({@link TraceAgent.now}). */
  ts?: bigint;
  /** Event kind (default `'message'`). */
  kind?: string;
  /** Human-readable text. */
  text?: string;
  /** Structured fields. */
  fields?: TraceFields;
}

/** Options of {@link createTraceAgent}: the engine's options (minus the registry) plus the agent's own. */
export interface TraceAgentOptions extends Omit<ClientEngineOptions<TraceRegistry>, 'registry' | 'name'> {
  /** Collector address: 'vsock://2:11451', 'unix:///run/t.sock', 'tcp://h:p', 'hybrid:///path:port'. */
  connect: TransportAddress | string;
  /** Source name (also the HELLO name the collector stamps on our events). */
  name: string;
  /**
   * Events held (default 65 536): waiting to be sent, plus sent and not yet acknowledged by the
   * collector (kept to be resent after a reconnect). More are dropped and counted.
   */
  maxBuffered?: number;
  /** Most events per batch (default 1024, at most 4096: MAX_BATCH_EVENTS); a full batch is sent without waiting for the timer. */
  maxBatch?: number;
  /**
   * Most bytes per batch, estimated (default 64 KiB): a batch is cut at whichever of `maxBatch`
   * and this comes first, so it stays far below a collector's maxFrame (envtest's is 256 KiB).
   * An event larger than this goes alone.
   */
  maxBatchBytes?: number;
  /** Batching interval, ms (default 10): the longest an event waits in the agent. */
  batchIntervalMs?: number;
  /** Send an empty batch with a watermark after this many idle ms (default 100; 0: never). */
  heartbeatMs?: number;
  /** Send the agent's counters and clock estimate this often, ms (default 1000; 0: only on close). */
  statusIntervalMs?: number;
  /**
   * How the agent promises the collector that older events will not come (the batch watermark):
   * - `'auto'` (default): nothing older than `now − watermarkLagNs` will be emitted any more;
   * - `'manual'`: only what {@link TraceAgent.advance} promises (and events already sent).
   * Use `'manual'` when events are stamped elsewhere (another thread) and arrive with a delay.
   */
  watermark?: 'auto' | 'manual';
  /** Lag of the automatic watermark, ns (default 20 ms). */
  watermarkLagNs?: bigint;
  /** Longest wait for the first clock sync in {@link createTraceAgent}, ms (default 10 000 × the engine option timeoutScale). */
  clockTimeoutMs?: number;
  /** The wire: vsock-rpc (default). `'legacy'` takes {@link LegacyTraceAgentOptions} instead. */
  wire?: 'native';
}

/**
 * Counters and clock of a {@link TraceAgent}. Exact at every moment:
 * `emitted = acknowledged + dropped + unconfirmed + buffered` (`unconfirmed` is only non-zero
 * after close, `buffered` is 0 after close).
 */
export interface TraceAgentStats {
  /** Events given to emit (accepted or dropped). */
  emitted: number;
  /** Events handed to the engine in batches, first sends (resends not included). */
  sent: number;
  /** Events sent again after a reconnect because they had not been acknowledged. */
  resent: number;
  /** Events the collector acknowledged: delivered and accounted for on the host. */
  acknowledged: number;
  /**
   * Events dropped here: the buffer was full, the agent closed before they could be sent, or the
   * event broke the trace schema's bounds (counted in `invalid` as well).
   */
  dropped: number;
  /** Events refused at `emit` for breaking the schema's bounds (a kind over 256, a text over 4096, …). */
  invalid: number;
  /** Events sent but never acknowledged when the agent closed: they may or may not have arrived. */
  unconfirmed: number;
  /** Events sent and awaiting an acknowledgement (part of `buffered`). */
  unacked: number;
  /** Events whose converted ts was raised to keep the source non-decreasing (see {@link TraceAgent}). */
  clamped: number;
  /** Batches sent, heartbeats included. */
  batches: number;
  /** Heartbeats (empty batches) sent. */
  heartbeats: number;
  /** Events held: waiting to be sent plus awaiting an acknowledgement. */
  buffered: number;
  /** The clock estimate (undefined before the first sync). */
  clock: TraceClockReport | undefined;
  /** Whether the engine is connected. */
  connected: boolean;
}

interface Pending {
  ts: bigint;
  kind: string;
  text: string | undefined;
  fields: TraceFields | undefined;
}

/**
 * A tracing agent (guest side). `emit` never blocks: it appends to a bounded buffer (full →
 * the event is dropped and counted). Sent events stay in that buffer until the collector
 * acknowledges them (`traceAck`); after a reconnect the unacknowledged ones are resent first,
 * in order, and the collector drops what it already had, so a restart of either side loses
 * nothing that fits in the buffer (packages/trace/README.md, "Delivery"). A timer (or a full batch) takes the buffer, converts every
 * timestamp to the host clock with the engine's clock sync (`ts` = host time, `origTs` = ours,
 * `errorBoundNs` = the conversion's bound), numbers the events (`seq`, per source, from 0) and
 * sends them as one `traceBatch`. An idle agent sends heartbeats (empty batch + watermark) so
 * the collector's merge does not wait for it.
 *
 * Ordering guarantee: the `ts` of this source never decreases and never falls below a
 * watermark already promised. A resync can move the offset a little backwards, and an event
 * emitted with an old `ts` can arrive after a watermark covering it; in both cases the
 * converted `ts` is raised to the floor, its `errorBoundNs` widened by the amount, and the
 * event counted in `clamped`: it keeps its place on the timeline instead of arriving late.
 *
 * Create it with {@link createTraceAgent}.
 */
export class TraceAgent {
  /** The engine underneath (for its stats, metrics and lifecycle events). */
  readonly engine: ClientEngine<TraceRegistry>;
  /** The source name. */
  readonly name: string;
  readonly #buf: Pending[] = [];
  /** Sent events awaiting an ack, in seq order; live part is [#head, length). */
  #sentq: TraceBatchEvent[] = [];
  #head = 0;
  /** First event of #sentq not yet sent on the current connection. */
  #resendAt = 0;
  readonly #ackWaiters: (() => void)[] = [];
  readonly #maxBuffered: number;
  readonly #maxBatch: number;
  readonly #maxBatchBytes: number;
  readonly #intervalMs: number;
  readonly #heartbeatMs: number;
  readonly #autoWatermark: boolean;
  readonly #lagNs: bigint;
  readonly #timer: NodeJS.Timeout;
  readonly #statusTimer: NodeJS.Timeout | undefined;
  #seq = 0;
  /** Host-domain floor: max of the last sent ts and the last promised watermark. */
  #floor: bigint | undefined;
  /** Agent-domain watermark promised through advance(). */
  #manualWatermark: bigint | undefined;
  #lastSentAt = 0;
  #sending: Promise<void> | undefined;
  #kick: NodeJS.Immediate | undefined;
  #closed = false;
  #failed: Error | undefined;
  #emitted = 0;
  #sent = 0;
  #resent = 0;
  #acknowledged = 0;
  #unconfirmed = 0;
  #dropped = 0;
  #invalid = 0;
  #clamped = 0;
  #batches = 0;
  #heartbeats = 0;

  /** @internal Use {@link createTraceAgent}. */
  constructor(engine: ClientEngine<TraceRegistry>, options: TraceAgentOptions) {
    this.engine = engine;
    this.name = options.name;
    this.#maxBuffered = Math.max(1, options.maxBuffered ?? 65_536);
    this.#maxBatch = Math.min(Math.max(1, options.maxBatch ?? 1024), MAX_BATCH_EVENTS);
    this.#maxBatchBytes = Math.max(1024, options.maxBatchBytes ?? 64 * 1024);
    this.#intervalMs = Math.max(1, options.batchIntervalMs ?? 10);
    this.#heartbeatMs = options.heartbeatMs ?? 100;
    this.#autoWatermark = (options.watermark ?? 'auto') === 'auto';
    this.#lagNs = options.watermarkLagNs ?? 20_000_000n;
    this.#timer = setInterval(() => this.#onTick(), this.#intervalMs);
    const statusMs = options.statusIntervalMs ?? 1000;
    if (statusMs > 0) this.#statusTimer = setInterval(() => this.#sendStatus(), statusMs);
    // Timers must not keep a program alive that has nothing else to do: close() is the way out.
    this.#timer.unref();
    this.#statusTimer?.unref();
    engine.on('traceAck', (ack) => this.#onAck(ack.seq));
    // Whatever was written to a connection that died may be lost: resend from the oldest
    // unacknowledged event on the next one (the engine drops, rather than queues, while offline).
    engine.on('disconnected', () => {
      this.#resendAt = this.#head;
    });
    engine.on('connected', () => {
      this.#resendAt = this.#head;
      this.#schedule();
    });
  }

  get #unacked(): number {
    return this.#sentq.length - this.#head;
  }

  /** The agent's clock (the engine's, including any `clockSkewNs`), ns. */
  now(): bigint {
    return this.engine.now();
  }

  /**
   * Queue one event. Never blocks, never throws for a full buffer: returns `false` when the event
   * was dropped (buffer full or agent closed), counted in `stats().dropped`.
   */
  emit(event: AgentEvent = {}): boolean {
    this.#emitted++;
    if (this.#closed || this.#buf.length + this.#unacked >= this.#maxBuffered) {
      this.#dropped++;
      return false;
    }
    // Checked here, not at send time: one event over the bounds must not sink its whole batch.
    if (!withinBounds(event)) {
      this.#invalid++;
      this.#dropped++;
      return false;
    }
    this.#buf.push({ ts: event.ts ?? this.engine.now(), kind: event.kind ?? 'message', text: event.text, fields: event.fields });
    if (this.#buf.length >= this.#maxBatch) this.#schedule();
    return true;
  }

  /**
   * Queue many events (e.g. a batch from a producer thread); see {@link emit}.
   * @returns how many were accepted (the rest were dropped and counted).
   */
  emitMany(events: readonly AgentEvent[]): number {
    let n = 0;
    for (const e of events) if (this.emit(e)) n++;
    return n;
  }

  /**
   * Promise that no event with `ts` (agent clock) below `localTs` will be emitted any more, so
   * the collector can release other sources' older events. Needed with `watermark: 'manual'`.
   */
  advance(localTs: bigint): void {
    if (this.#manualWatermark === undefined || localTs > this.#manualWatermark) this.#manualWatermark = localTs;
  }

  /**
   * Send everything buffered now and resolve once the engine has written it to the socket (or,
   * while disconnected, queued it for the next connection).
   */
  async flush(): Promise<void> {
    for (;;) {
      if (this.#failed !== undefined) {
        this.#dropped += this.#buf.length;
        this.#buf.length = 0;
        throw this.#failed;
      }
      if (this.#closed) return;
      if (!this.engine.connected) {
        // Offline: the engine reconnects by itself; wait for it (the caller bounds the wait).
        await new Promise<void>((resolve) => this.engine.once('connected', () => resolve()));
        continue;
      }
      if (this.engine.clock.model === undefined) {
        // A sync can fail when the connection drops meanwhile: loop and wait for the next one.
        await this.engine.syncClock().catch(() => new Promise((r) => setTimeout(r, 50)));
        continue;
      }
      await this.#sendPending(true);
      if (this.#buf.length === 0 && this.#resendAt >= this.#sentq.length && this.#sending === undefined) break;
    }
    await this.engine.flush();
  }

  /**
   * Resolves once every event emitted so far has been acknowledged by the collector (or the
   * agent closed). Does not send by itself: call {@link flush} first, and bound the wait.
   */
  acknowledged(): Promise<void> {
    if ((this.#unacked === 0 && this.#buf.length === 0) || this.#closed) return Promise.resolve();
    return new Promise((resolve) => this.#ackWaiters.push(resolve));
  }

  /**
   * Flush, wait for the collector's acknowledgements, send a last status, and close the engine
   * (`timeoutMs` bounds the whole). What was never sent is counted as dropped; what was sent and
   * never acknowledged as unconfirmed. Events emitted afterwards are dropped and counted.
   */
  async close(timeoutMs = 5000): Promise<void> {
    if (this.#closed) return;
    const end = performance.now() + timeoutMs;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
    await Promise.race([
      (async () => {
        await this.flush();
        await this.acknowledged();
      })().catch(() => {}),
      deadline,
    ]);
    clearTimeout(timer);
    this.#closed = true;
    clearInterval(this.#timer);
    if (this.#statusTimer) clearInterval(this.#statusTimer);
    if (this.#kick) clearImmediate(this.#kick);
    this.#dropped += this.#buf.length;
    this.#buf.length = 0;
    this.#unconfirmed += this.#unacked;
    this.#sentq = [];
    this.#head = 0;
    this.#resendAt = 0;
    this.#wakeAckWaiters();
    this.#sendStatus(true);
    await this.engine.close(Math.max(0, end - performance.now()));
  }

  /** Counters and the clock estimate. */
  stats(): TraceAgentStats {
    return {
      emitted: this.#emitted,
      sent: this.#sent,
      resent: this.#resent,
      acknowledged: this.#acknowledged,
      dropped: this.#dropped,
      invalid: this.#invalid,
      unconfirmed: this.#unconfirmed,
      unacked: this.#unacked,
      clamped: this.#clamped,
      batches: this.#batches,
      heartbeats: this.#heartbeats,
      buffered: this.#buf.length + this.#unacked,
      clock: this.#clockReport(),
      connected: this.engine.connected,
    };
  }

  #schedule(): void {
    if (this.#kick !== undefined || this.#closed) return;
    this.#kick = setImmediate(() => {
      this.#kick = undefined;
      void this.#sendPending(false);
    });
  }

  #onAck(seq: number): void {
    const q = this.#sentq;
    let h = this.#head;
    while (h < q.length && q[h]!.seq <= seq) h++;
    if (h === this.#head) return;
    this.#acknowledged += h - this.#head;
    this.#head = h;
    if (this.#resendAt < h) this.#resendAt = h;
    // Compact now and then rather than shift per ack (O(n) each).
    if (h > 4096 && h * 2 > q.length) {
      q.splice(0, h);
      this.#resendAt -= h;
      this.#head = 0;
    }
    if (this.#unacked === 0 && this.#buf.length === 0) this.#wakeAckWaiters();
  }

  #wakeAckWaiters(): void {
    for (const w of this.#ackWaiters.splice(0)) w();
  }

  #onTick(): void {
    if (this.#buf.length > 0 || this.#resendAt < this.#sentq.length) {
      void this.#sendPending(false);
      return;
    }
    if (this.#heartbeatMs > 0 && performance.now() - this.#lastSentAt >= this.#heartbeatMs) void this.#sendPending(true);
  }

  /**
   * Send the buffer as batches of at most maxBatch. One send in flight at a time: when the
   * engine's queue pushes back (send returns a promise), later events wait in our bounded buffer,
   * where overflow is counted, instead of piling up anywhere unbounded.
   */
  #sendPending(heartbeat: boolean): Promise<void> {
    if (this.#sending) return this.#sending;
    const run = (async () => {
      try {
        for (;;) {
          // Offline: everything waits in the bounded buffer; 'connected' restarts us.
          if (!this.engine.connected) return;
          if (this.#resendAt < this.#sentq.length) {
            // Unacknowledged events first, in seq order, so the collector sees no reordering.
            const end = this.#resendAt + batchLength(this.#sentq, this.#resendAt, this.#maxBatch, this.#maxBatchBytes);
            const events = this.#sentq.slice(this.#resendAt, end);
            this.#resendAt = end;
            this.#resent += events.length;
            this.#batches++;
            this.#lastSentAt = performance.now();
            const p = this.engine.send('traceBatch', { source: this.name, events });
            if (p) await p;
            continue;
          }
          if (this.#buf.length === 0 && !heartbeat) return;
          const model = this.engine.clock.model;
          if (model === undefined) return; // not synced yet: events wait (bounded) for the first sync
          const take = this.#buf.splice(0, batchLength(this.#buf, 0, this.#maxBatch, this.#maxBatchBytes));
          const batch = this.#makeBatch(take, model);
          heartbeat = false;
          if (batch === undefined) return;
          for (const e of batch.events) this.#sentq.push(e);
          this.#resendAt = this.#sentq.length;
          this.#lastSentAt = performance.now();
          this.#batches++;
          if (take.length === 0) this.#heartbeats++;
          this.#sent += take.length;
          const p = this.engine.send('traceBatch', batch);
          if (p) await p;
        }
      } catch (err) {
        // Engine closed under us: what was sent stays unacknowledged (counted as unconfirmed on
        // close); flush() reports the error instead of waiting for a send that cannot happen.
        this.#failed ??= err as Error;
      }
    })();
    // Cleared in a callback, not in the body's `finally`: a body that finishes without awaiting
    // would clear it before this assignment and leave a settled promise marked as in flight.
    this.#sending = run;
    void run.finally(() => {
      if (this.#sending === run) this.#sending = undefined;
    });
    return run;
  }

  #makeBatch(take: Pending[], model: { toRemote(ts: bigint): { value: bigint; errorBoundNs: bigint } }): TraceBatch | undefined {
    const events = new Array<TraceBatchEvent>(take.length);
    let floor = this.#floor;
    for (let i = 0; i < take.length; i++) {
      const p = take[i]!;
      const c = model.toRemote(p.ts);
      let ts = c.value;
      let bound = c.errorBoundNs;
      if (floor !== undefined && ts < floor) {
        bound += floor - ts;
        ts = floor;
        this.#clamped++;
      }
      floor = ts;
      const e: TraceBatchEvent = { seq: this.#seq++, ts, origTs: p.ts, errorBoundNs: bound, kind: p.kind };
      if (p.text !== undefined) e.text = p.text;
      if (p.fields !== undefined) e.fields = p.fields;
      events[i] = e;
    }
    // The watermark: what we can promise about events not yet emitted, in the host domain.
    let localWm: bigint | undefined = this.#autoWatermark ? this.engine.now() - this.#lagNs : this.#manualWatermark;
    // Anything still buffered (emitted during the send) may be older than "now − lag".
    const oldest = this.#buf[0];
    if (oldest !== undefined && localWm !== undefined && oldest.ts < localWm) localWm = oldest.ts;
    let watermark: bigint | undefined = localWm === undefined ? undefined : model.toRemote(localWm).value;
    if (watermark !== undefined && floor !== undefined && watermark < floor) watermark = floor;
    if (watermark === undefined) watermark = floor;
    if (events.length === 0 && (watermark === undefined || (this.#floor !== undefined && watermark <= this.#floor))) {
      return undefined; // a heartbeat that promises nothing new is noise
    }
    if (watermark !== undefined && (floor === undefined || watermark > floor)) floor = watermark;
    this.#floor = floor;
    const batch: TraceBatch = { source: this.name, events };
    if (watermark !== undefined) batch.watermark = watermark;
    return batch;
  }

  #clockReport(): TraceClockReport | undefined {
    const c = this.engine.clock;
    const offset = c.offset;
    const bound = c.errorBound;
    if (offset === undefined || bound === undefined) return undefined;
    const last = c.lastSync;
    return { offsetNs: offset, errorBoundNs: bound, driftPpm: c.driftPpm ?? 0, lastSyncAgeMs: last ? Date.now() - last.wallTimeMs : -1 };
  }

  #sendStatus(final = false): void {
    if (!this.engine.connected || (this.#closed && !final)) return;
    const status: TraceAgentStatus = {
      source: this.name,
      emitted: this.#emitted,
      sent: this.#sent,
      dropped: this.#dropped,
      clamped: this.#clamped,
    };
    const clock = this.#clockReport();
    if (clock) status.clock = clock;
    try {
      void this.engine.send('traceAgentStatus', status);
    } catch {
      // closed engine: the status is informational, nothing to do
    }
  }
}

/** Options that are the agent's own, not the engine's. */
const AGENT_KEYS = [
  'connect',
  'name',
  'maxBuffered',
  'maxBatch',
  'maxBatchBytes',
  'batchIntervalMs',
  'heartbeatMs',
  'statusIntervalMs',
  'watermark',
  'watermarkLagNs',
  'clockTimeoutMs',
  'wire',
] as const satisfies readonly (keyof TraceAgentOptions)[];

/**
 * Connect to a collector and start a tracing agent. Resolves once connected and the first clock
 * sync is done, so the first batch already carries host-domain timestamps.
 *
 * @example
 * ```ts
 * const agent = await createTraceAgent({ connect: 'vsock://2:11451', name: 'guest-1' });
 * agent.emit({ text: 'HELLO' });
 * await agent.close();
 * ```
 * @throws the engine's connection errors (refused, HELLO mismatch), or a {@link TraceError}
 *   `ERR_TRACE_NO_CLOCK_SYNC` when the first sync does not finish in `clockTimeoutMs`.
 */
export function createTraceAgent(options: TraceAgentOptions): Promise<TraceAgent>;
/**
 * Connect to the C++ envtest's server (the legacy wire, e.g. 'vsock://2:47916'): see
 * {@link LegacyTraceAgent}. Resolves once connected and the first clock exchange is done.
 */
export function createTraceAgent(options: LegacyTraceAgentOptions): Promise<LegacyTraceAgent>;
export async function createTraceAgent(options: TraceAgentOptions | LegacyTraceAgentOptions): Promise<TraceAgent | LegacyTraceAgent> {
  if (options.wire === 'legacy') return createLegacyTraceAgent(options);
  const { connect, name, clockTimeoutMs } = options;
  const engineOptions: Record<string, unknown> = { ...options };
  for (const k of AGENT_KEYS) delete engineOptions[k];
  // offline 'drop': the agent keeps unacknowledged events itself and resends them in order
  // after a reconnect; batches queued in the engine meanwhile would arrive before the resend.
  const engine = await ClientEngine.connect(connect, {
    ...(engineOptions as Omit<ClientEngineOptions<TraceRegistry>, 'registry'>),
    registry: traceRegistry,
    name,
    offline: 'drop',
  });
  try {
    if (engine.clock.model === undefined) {
      // 10 s at normal speed: ten clock exchanges' worth, so it scales with the engine's timeoutScale.
      const timeoutMs = clockTimeoutMs ?? 10 * engine.timeLimits.clockExchangeTimeoutMs;
      let timer: NodeJS.Timeout | undefined;
      // One exchange may miss its own (short) deadline on a starved guest; the first sync gets
      // the whole budget: retry lost exchanges until it is spent.
      const deadline = performance.now() + timeoutMs;
      const firstSync = async (): Promise<void> => {
        for (;;) {
          try {
            await engine.syncClock();
            return;
          } catch (err) {
            if ((err as { code?: unknown }).code !== 'DEADLINE_EXCEEDED' || performance.now() >= deadline) throw err;
          }
        }
      };
      await Promise.race([
        firstSync(),
        new Promise((_, reject) => {
          const address = formatAddress(engine.address);
          timer = setTimeout(
            () =>
              reject(
                new TraceError(
                  'ERR_TRACE_NO_CLOCK_SYNC',
                  `trace agent '${name}': no clock sync with ${address} within ${(timeoutMs / 1000).toFixed(1)} s: the collector or this guest is slow (raise timeoutScale; envtest: --timeout-scale), or it is not a trace collector`,
                  { address },
                ),
              ),
            timeoutMs,
          );
        }),
      ]).finally(() => clearTimeout(timer));
    }
  } catch (err) {
    await engine.close(0);
    throw err;
  }
  return new TraceAgent(engine, options);
}

/** Whether an event fits the trace schema's bounds (schema.ts): its kind, text and fields. */
function withinBounds(e: AgentEvent): boolean {
  if (e.kind !== undefined && e.kind.length > 256) return false;
  if (e.text !== undefined && e.text.length > MAX_TEXT_LENGTH) return false;
  if (e.fields === undefined) return true;
  let n = 0;
  for (const k in e.fields) {
    if (++n > MAX_FIELDS || k.length > MAX_FIELD_NAME_LENGTH) return false;
    const v = e.fields[k];
    if (typeof v === 'string' && v.length > MAX_TEXT_LENGTH) return false;
  }
  return true;
}

/** The msgpack size of an event, estimated from above (3 bytes per UTF-16 unit, 9 per number). */
function estimateBytes(e: { kind: string; text?: string | undefined; fields?: TraceFields | undefined }): number {
  let n = 64 + 3 * e.kind.length + (e.text === undefined ? 0 : 3 * e.text.length + 6);
  if (e.fields !== undefined) {
    for (const k in e.fields) {
      const v = e.fields[k];
      n += 3 * k.length + 2 + (typeof v === 'string' ? 3 * v.length + 5 : 9);
    }
  }
  return n;
}

/** How many events from `list[start]` on make one batch: at most `maxEvents` and `maxBytes` (at least one). */
function batchLength(
  list: readonly { kind: string; text?: string | undefined; fields?: TraceFields | undefined }[],
  start: number,
  maxEvents: number,
  maxBytes: number,
): number {
  const end = Math.min(list.length, start + maxEvents);
  let bytes = 0;
  for (let i = start; i < end; i++) {
    bytes += estimateBytes(list[i]!);
    if (bytes > maxBytes) return Math.max(1, i - start);
  }
  return end - start;
}

/**
 * Clock synchronisation over a connection: bursts of CLOCK_REQUEST/CLOCK_RESPONSE exchanges
 * (PROTOCOL.md §4), the minimum-delay sample of each burst, periodic resync and drift across
 * syncs (ARCHITECTURE.md "Clock sync"). The arithmetic lives in {@link ./clock.ts}.
 */
import { EventEmitter } from 'node:events';
import { VsockRpcError } from '@vsock-rpc/wire';
import { ClockModel, DriftEstimator, floorDiv, pickMinDelay, type Converted, type DriftEstimate } from './clock.js';
import type { ClockSample } from './connection.js';
import type { EngineMetrics } from './metrics.js';

/**
 * One clock exchange with a peer: `Connection.clockExchange`, `ClientEngine.clockExchange` or
 * `PeerHandle.clockExchange` (pass it bound: `(t) => engine.clockExchange(t)`).
 */
export type ClockExchange = (timeoutMs?: number) => Promise<ClockSample>;

/** Options of one sync (a burst). */
export interface SyncOptions {
  /** Exchanges in the burst, sent one after the other (default 8); the minimum when the burst adapts. */
  readonly samples?: number;
  /**
   * Adaptive burst: after `samples` exchanges, keep going up to this many while no exchange
   * had a delay at or below `targetDelayNs` (default: `samples`, a fixed-size burst).
   * {@link ClockSync} sets both from the delays it has seen.
   */
  readonly maxSamples?: number;
  /** The delay that ends an adaptive burst early (see `maxSamples`). */
  readonly targetDelayNs?: bigint;
  /** Limit of each exchange, ms (default 1000). */
  readonly timeoutMs?: number;
}

/** The result of one sync: the kept (minimum-delay) exchange of a burst. */
export interface SyncResult {
  /** local − remote, ns. */
  readonly offsetNs: bigint;
  /** Delay of the kept exchange, ns. */
  readonly delayNs: bigint;
  /** |true offset − offsetNs| ≤ errorBoundNs (delay / 2). */
  readonly errorBoundNs: bigint;
  /** Exchanges taken in the burst. */
  readonly samples: number;
  /** Local time (ns, the clock the samples' T1/T2 are on) at which the offset held: the midpoint of the kept exchange. */
  readonly at: bigint;
  /** The kept exchange. */
  readonly sample: ClockSample;
  /** Wall-clock time of the sync (Date.now()), for humans and the last-sync gauge. */
  readonly wallTimeMs: number;
}

/**
 * One sync: a burst of `samples` exchanges, back to back (each sent when the previous answer
 * arrives, so they never queue behind one another), keeping the one with the least delay.
 * Sequential rather than concurrent because concurrent requests would wait behind each other in
 * the same socket buffers and event loops, adding exactly the delay the burst tries to avoid.
 *
 * @throws whatever an exchange throws (closed connection, DEADLINE_EXCEEDED).
 *
 * @example
 * ```ts
 * server.on('peer', async (peer) => {
 *   const s = await syncClock(peer.clockExchange, { samples: 8 });
 *   console.log(`${peer.context.name}: offset ${s.offsetNs} ns ± ${s.errorBoundNs}`);
 * });
 * ```
 */
export async function syncClock(exchange: ClockExchange, options: SyncOptions = {}): Promise<SyncResult> {
  const n = Math.max(1, Math.floor(options.samples ?? 8));
  const max = Math.max(n, Math.floor(options.maxSamples ?? n));
  const target = options.targetDelayNs;
  const timeoutMs = options.timeoutMs ?? 1000;
  const samples: ClockSample[] = [];
  let bestDelay: bigint | undefined;
  while (samples.length < n || (samples.length < max && target !== undefined && bestDelay! > target)) {
    const s = await exchange(timeoutMs);
    samples.push(s);
    const d = s.t2 - s.t1 - (s.t2r - s.t1r);
    if (bestDelay === undefined || d < bestDelay) bestDelay = d;
  }
  const best = pickMinDelay(samples);
  return {
    offsetNs: best.offsetNs,
    delayNs: best.delayNs,
    errorBoundNs: best.errorBoundNs,
    samples: samples.length,
    at: floorDiv(best.sample.t1 + best.sample.t2, 2n),
    sample: best.sample,
    wallTimeMs: Date.now(),
  };
}

/** Options of a {@link ClockSync}. */
export interface ClockSyncOptions extends SyncOptions {
  /** Resync every this many ms while started (default 3000). */
  readonly intervalMs?: number;
  /** Syncs the drift fit uses (default 8). */
  readonly driftWindow?: number;
  /**
   * Drift assumed possible before it has been estimated, ppm (default 100: commodity crystals
   * are specified at ±20–100 ppm). Makes the error bound grow honestly from the first sync on.
   */
  readonly maxDriftPpm?: number;
  /** Our clock, the one the exchanges' T1/T2 are on (default process.hrtime.bigint). */
  readonly now?: () => bigint;
  /**
   * Most exchanges in one adaptive burst (default 4 × samples). Every burst takes `samples`;
   * it goes on, up to this many, while none came within the margin of the least delay of the
   * recent syncs (1.5 × that delay + 1 µs). The first burst after start/reset takes them all,
   * to learn that least delay.
   */
  readonly maxSamples?: number;
  /** Publish offset, error bound, drift and last sync here after each sync. */
  readonly metrics?: EngineMetrics;
}

/** What 'sync' events carry. */
export interface SyncEvent extends SyncResult {
  /** The drift estimate after this sync (0 until there is one). */
  readonly driftPpm: number;
  /**
   * Whether this sync became the model's anchor. A sync is passed over when its error bound is
   * wider than what the model, extrapolated from an earlier and tighter sync, still guarantees
   * (and the two agree within their bounds); it still feeds the drift fit, at its low weight.
   */
  readonly accepted: boolean;
}

/**
 * Keeps a peer's clock in view: syncs now and every `intervalMs` while started, estimates
 * drift across syncs, and converts timestamps both ways with an error bound.
 *
 * Events: 'sync' ({@link SyncEvent}), 'error' (a failed periodic sync; emitted only if
 * listened, the next interval retries), 'close'.
 *
 * Accuracy measures, all aimed at the delay that queueing adds (a peer's event loop busy with a
 * batch, ours busy sending, a scheduler slow to wake either): each sync keeps the minimum-delay
 * exchange of its burst; bursts grow (up to `maxSamples`) until one exchange comes close to the
 * least delay recently seen; and a sync looser than the model's extrapolation of an earlier one
 * does not replace it.
 *
 * @example
 * ```ts
 * const clock = new ClockSync((t) => client.clockExchange(t), { intervalMs: 3000, now: client.now });
 * clock.start();
 * clock.on('sync', () => console.log(clock.offset, clock.errorBound, clock.driftPpm));
 * const hostTs = clock.toRemote(client.now()); // { value, errorBoundNs }
 * ```
 */
export class ClockSync extends EventEmitter {
  readonly #exchange: ClockExchange;
  readonly #intervalMs: number;
  readonly #syncOptions: SyncOptions;
  readonly #maxDriftPpm: number;
  readonly #now: () => bigint;
  readonly #metrics: EngineMetrics | undefined;
  readonly #drift: DriftEstimator;
  readonly #maxSamples: number;
  // Kept delays of the recent syncs: their minimum is the path's floor, which sets when an
  // adaptive burst may stop.
  readonly #delays: bigint[] = [];
  readonly #delayWindow: number;
  // True until the first sync after construction or reset(): that one is always the anchor.
  #fresh = true;
  #model: ClockModel | undefined;
  #last: SyncResult | undefined;
  #timer: NodeJS.Timeout | undefined;
  #started = false;
  #closed = false;
  // Bumped by start() and stop(): a periodic loop from before a stop/start must not continue.
  #loop = 0;
  // Syncs run one at a time: two bursts at once would delay each other's samples.
  #chain: Promise<unknown> = Promise.resolve();
  // Bumped by reset(): a sync that started before it must not feed the new history.
  #epoch = 0;

  constructor(exchange: ClockExchange, options: ClockSyncOptions = {}) {
    super();
    this.#exchange = exchange;
    this.#intervalMs = Math.max(1, options.intervalMs ?? 3000);
    this.#syncOptions = { samples: options.samples, timeoutMs: options.timeoutMs };
    this.#maxDriftPpm = options.maxDriftPpm ?? 100;
    this.#now = options.now ?? process.hrtime.bigint;
    this.#metrics = options.metrics;
    this.#drift = new DriftEstimator(options.driftWindow ?? 8);
    this.#delayWindow = Math.max(1, options.driftWindow ?? 8);
    this.#maxSamples = Math.max(1, Math.floor(options.maxSamples ?? 4 * (options.samples ?? 8)));
  }

  /** local − remote now (drift applied), ns; undefined before the first sync. */
  get offset(): bigint | undefined {
    return this.#model?.offsetAt(this.#now());
  }

  /** The error bound of {@link offset} now (it grows with the time since the last sync), ns. */
  get errorBound(): bigint | undefined {
    return this.#model?.errorBoundAt(this.#now());
  }

  /** The estimated drift, ppm (offset change per local time); undefined until two syncs at least 0.5 s apart. */
  get driftPpm(): number | undefined {
    return this.#drift.estimate?.driftPpm;
  }

  /** The full drift estimate (with its uncertainty and window). */
  get drift(): DriftEstimate | undefined {
    return this.#drift.estimate;
  }

  /** The last successful sync. */
  get lastSync(): SyncResult | undefined {
    return this.#last;
  }

  /** The current model (anchor, offset, drift), for converting many timestamps at once. */
  get model(): ClockModel | undefined {
    return this.#model;
  }

  /** Whether periodic syncing is on. */
  get started(): boolean {
    return this.#started;
  }

  /** Our timestamp on the peer's clock. @throws VsockRpcError CLOCK_NOT_SYNCED before the first sync. */
  toRemote(localTs: bigint): Converted {
    return this.#requireModel().toRemote(localTs);
  }

  /** The peer's timestamp on our clock. @throws VsockRpcError CLOCK_NOT_SYNCED before the first sync. */
  toLocal(remoteTs: bigint): Converted {
    return this.#requireModel().toLocal(remoteTs);
  }

  /** Starts periodic syncing: one sync now, then one every `intervalMs`. No-op if started or closed. */
  start(): void {
    if (this.#started || this.#closed) return;
    this.#started = true;
    this.#tick(++this.#loop);
  }

  /** Stops periodic syncing (e.g. while disconnected); the model is kept. */
  stop(): void {
    this.#started = false;
    this.#loop++;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /**
   * Forgets the drift history (for a new connection: the peer may be another machine). The
   * model stays until the next sync replaces it, its error bound growing meanwhile.
   */
  reset(): void {
    this.#epoch++;
    this.#drift.clear();
    this.#delays.length = 0;
    this.#fresh = true;
  }

  /** Stops for good. */
  close(): void {
    if (this.#closed) return;
    this.stop();
    this.#closed = true;
    this.emit('close');
  }

  /** One sync now (after any sync in progress); feeds the model, the drift and the metrics. */
  sync(options: SyncOptions = {}): Promise<SyncResult> {
    const run = this.#chain.then(() => this.#syncOnce(options));
    this.#chain = run.catch(() => {});
    return run;
  }

  async #syncOnce(options: SyncOptions): Promise<SyncResult> {
    if (this.#closed) throw new VsockRpcError('CLOCK_CLOSED', 'clock sync is closed');
    const epoch = this.#epoch;
    let floor: bigint | undefined;
    for (const d of this.#delays) if (floor === undefined || d < floor) floor = d;
    const result = await syncClock(this.#exchange, {
      ...this.#syncOptions,
      maxSamples: this.#maxSamples,
      // No floor yet: no target, and the burst runs to maxSamples to find one.
      targetDelayNs: floor === undefined ? -1n : floor + floor / 2n + 1000n,
      ...options,
    });
    if (this.#closed || epoch !== this.#epoch) return result;
    this.#last = result;
    this.#delays.push(result.delayNs);
    if (this.#delays.length > this.#delayWindow) this.#delays.shift();

    const old = this.#model;
    let accepted = true;
    if (old && !this.#fresh) {
      const predicted = old.offsetAt(result.at);
      const predictedBound = old.errorBoundAt(result.at);
      const diff = result.offsetNs >= predicted ? result.offsetNs - predicted : predicted - result.offsetNs;
      if (diff > result.errorBoundNs + predictedBound) {
        // Both cannot be right: the clock stepped, or the drift history misleads. Start over
        // from this measurement.
        this.#drift.clear();
      } else {
        accepted = result.errorBoundNs <= predictedBound;
      }
    }
    this.#fresh = false;
    const drift = this.#drift.add({ atNs: result.at, offsetNs: result.offsetNs, errorBoundNs: result.errorBoundNs });
    const driftPpm = drift?.driftPpm ?? 0;
    const driftBoundPpm = drift ? drift.uncertaintyPpm : this.#maxDriftPpm;
    const anchor = accepted || !old ? { atNs: result.at, offsetNs: result.offsetNs, errorBoundNs: result.errorBoundNs } : old;
    this.#model = new ClockModel({ atNs: anchor.atNs, offsetNs: anchor.offsetNs, errorBoundNs: anchor.errorBoundNs, driftPpm, driftBoundPpm });
    if (this.#metrics) {
      const now = this.#now();
      this.#metrics.clock({ offsetNs: this.#model.offsetAt(now), errorBoundNs: this.#model.errorBoundAt(now), driftPpm, lastSyncMs: result.wallTimeMs });
    }
    const event: SyncEvent = { ...result, driftPpm, accepted };
    this.emit('sync', event);
    return result;
  }

  #tick(loop: number): void {
    this.#timer = undefined;
    if (loop !== this.#loop || !this.#started || this.#closed) return;
    this.sync()
      .then(
        () => {},
        (err: unknown) => {
          if (this.listenerCount('error') > 0) this.emit('error', err);
        },
      )
      .finally(() => {
        if (loop !== this.#loop || !this.#started || this.#closed) return;
        // The next sync counts from the end of this one, so slow syncs never pile up.
        this.#timer = setTimeout(() => this.#tick(loop), this.#intervalMs);
        this.#timer.unref?.();
      });
  }

  #requireModel(): ClockModel {
    if (!this.#model) throw new VsockRpcError('CLOCK_NOT_SYNCED', 'no clock sync has completed yet: await clock.sync() or wait for the first sync event');
    return this.#model;
  }
}

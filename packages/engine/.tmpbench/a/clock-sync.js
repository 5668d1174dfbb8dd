/**
 * Clock synchronisation over a connection: bursts of CLOCK_REQUEST/CLOCK_RESPONSE exchanges
 * (PROTOCOL.md §4), the minimum-delay sample of each burst, periodic resync and drift across
 * syncs (ARCHITECTURE.md "Clock sync"). The arithmetic lives in {@link ./clock.ts}.
 */
import { EventEmitter } from 'node:events';
import { VsockRpcError } from '@vsock-rpc/wire';
import { ClockModel, DriftEstimator, floorDiv, pickMinDelay } from './clock.js';
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
export async function syncClock(exchange, options = {}) {
    const n = Math.max(1, Math.floor(options.samples ?? 8));
    const max = Math.max(n, Math.floor(options.maxSamples ?? n));
    const target = options.targetDelayNs;
    const timeoutMs = options.timeoutMs ?? 1000;
    const samples = [];
    let bestDelay;
    while (samples.length < n || (samples.length < max && target !== undefined && bestDelay > target)) {
        const s = await exchange(timeoutMs);
        samples.push(s);
        const d = s.t2 - s.t1 - (s.t2r - s.t1r);
        if (bestDelay === undefined || d < bestDelay)
            bestDelay = d;
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
    #exchange;
    #intervalMs;
    #syncOptions;
    #maxDriftPpm;
    #now;
    #metrics;
    #drift;
    #maxSamples;
    // Kept delays of the recent syncs: their minimum is the path's floor, which sets when an
    // adaptive burst may stop.
    #delays = [];
    #delayWindow;
    // True until the first sync after construction or reset(): that one is always the anchor.
    #fresh = true;
    #model;
    #last;
    #timer;
    #started = false;
    #closed = false;
    // Bumped by start() and stop(): a periodic loop from before a stop/start must not continue.
    #loop = 0;
    // Syncs run one at a time: two bursts at once would delay each other's samples.
    #chain = Promise.resolve();
    // Bumped by reset(): a sync that started before it must not feed the new history.
    #epoch = 0;
    constructor(exchange, options = {}) {
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
    get offset() {
        return this.#model?.offsetAt(this.#now());
    }
    /** The error bound of {@link offset} now (it grows with the time since the last sync), ns. */
    get errorBound() {
        return this.#model?.errorBoundAt(this.#now());
    }
    /** The estimated drift, ppm (offset change per local time); undefined until two syncs at least 0.5 s apart. */
    get driftPpm() {
        return this.#drift.estimate?.driftPpm;
    }
    /** The full drift estimate (with its uncertainty and window). */
    get drift() {
        return this.#drift.estimate;
    }
    /** The last successful sync. */
    get lastSync() {
        return this.#last;
    }
    /** The current model (anchor, offset, drift), for converting many timestamps at once. */
    get model() {
        return this.#model;
    }
    /** Whether periodic syncing is on. */
    get started() {
        return this.#started;
    }
    /** Our timestamp on the peer's clock. @throws VsockRpcError CLOCK_NOT_SYNCED before the first sync. */
    toRemote(localTs) {
        return this.#requireModel().toRemote(localTs);
    }
    /** The peer's timestamp on our clock. @throws VsockRpcError CLOCK_NOT_SYNCED before the first sync. */
    toLocal(remoteTs) {
        return this.#requireModel().toLocal(remoteTs);
    }
    /** Starts periodic syncing: one sync now, then one every `intervalMs`. No-op if started or closed. */
    start() {
        if (this.#started || this.#closed)
            return;
        this.#started = true;
        this.#tick(++this.#loop);
    }
    /** Stops periodic syncing (e.g. while disconnected); the model is kept. */
    stop() {
        this.#started = false;
        this.#loop++;
        clearTimeout(this.#timer);
        this.#timer = undefined;
    }
    /**
     * Forgets the drift history (for a new connection: the peer may be another machine). The
     * model stays until the next sync replaces it, its error bound growing meanwhile.
     */
    reset() {
        this.#epoch++;
        this.#drift.clear();
        this.#delays.length = 0;
        this.#fresh = true;
    }
    /** Stops for good. */
    close() {
        if (this.#closed)
            return;
        this.stop();
        this.#closed = true;
        this.emit('close');
    }
    /** One sync now (after any sync in progress); feeds the model, the drift and the metrics. */
    sync(options = {}) {
        const run = this.#chain.then(() => this.#syncOnce(options));
        this.#chain = run.catch(() => { });
        return run;
    }
    async #syncOnce(options) {
        if (this.#closed)
            throw new VsockRpcError('CLOCK_CLOSED', 'clock sync is closed');
        const epoch = this.#epoch;
        let floor;
        for (const d of this.#delays)
            if (floor === undefined || d < floor)
                floor = d;
        const result = await syncClock(this.#exchange, {
            ...this.#syncOptions,
            maxSamples: this.#maxSamples,
            // No floor yet: no target, and the burst runs to maxSamples to find one.
            targetDelayNs: floor === undefined ? -1n : floor + floor / 2n + 1000n,
            ...options,
        });
        if (this.#closed || epoch !== this.#epoch)
            return result;
        this.#last = result;
        this.#delays.push(result.delayNs);
        if (this.#delays.length > this.#delayWindow)
            this.#delays.shift();
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
            }
            else {
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
        const event = { ...result, driftPpm, accepted };
        this.emit('sync', event);
        return result;
    }
    #tick(loop) {
        this.#timer = undefined;
        if (loop !== this.#loop || !this.#started || this.#closed)
            return;
        this.sync()
            .then(() => { }, (err) => {
            if (this.listenerCount('error') > 0)
                this.emit('error', err);
        })
            .finally(() => {
            if (loop !== this.#loop || !this.#started || this.#closed)
                return;
            // The next sync counts from the end of this one, so slow syncs never pile up.
            this.#timer = setTimeout(() => this.#tick(loop), this.#intervalMs);
            this.#timer.unref?.();
        });
    }
    #requireModel() {
        if (!this.#model)
            throw new VsockRpcError('CLOCK_NOT_SYNCED', 'no clock sync has completed yet: await clock.sync() or wait for the first sync event');
        return this.#model;
    }
}
//# sourceMappingURL=clock-sync.js.map
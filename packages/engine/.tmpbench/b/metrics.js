import * as hdr from 'hdr-histogram-js';
import { CONTROL_NAMES, Kind, VsockRpcError } from '@vsock-rpc/wire';
import { KINDS, KIND_LABELS, KIND_ROWS, KNOWN_ERROR_CODES, OTHER_CODE, TYPES, UNKNOWN_LABEL } from './metric-labels.js';
import { PromPublisher, publishers } from './metrics-publisher.js';
export { KNOWN_ERROR_CODES, UNKNOWN_LABEL, OTHER_CODE, DROP_REASONS, EVICTION_REASONS } from './metric-labels.js';
/** Two engines would publish the same series into one prom registry (code METRICS_CONFLICT). */
export class MetricsConflictError extends VsockRpcError {
    constructor(message) {
        super('METRICS_CONFLICT', message);
    }
}
/**
 * The metrics of one engine. The hot path only increments typed arrays indexed by TYPE_ id and
 * kind; prom-client reads them when scraped (its `collect` hooks), so publishing costs nothing
 * per frame.
 *
 * Published: `<prefix>frames_total{direction,kind,type}`, `<prefix>bytes_total{direction,type}`,
 * `<prefix>errors_total{code}`, `<prefix>call_duration_seconds{method,code}` (histogram),
 * `<prefix>queue_depth`, `<prefix>dropped_events_total{reason}`, `<prefix>connections`,
 * `<prefix>connections_evicted_total{reason}`,
 * `<prefix>rtt_seconds`, `<prefix>clock_offset_seconds`, `<prefix>clock_error_bound_seconds`,
 * `<prefix>clock_drift_ppm`, `<prefix>clock_last_sync_timestamp_seconds`; each also carries the
 * constant labels (the engines set `role`: 'client' or 'server').
 *
 * Every label value comes from a fixed set, never from the peer: `type` and `method` are names
 * of the registry or control types (`unknown` for any other id), `code` is one of
 * {@link KNOWN_ERROR_CODES} or the application's `codes` (`OTHER` for any other), `reason` and
 * `kind` are fixed lists. So a scrape's series number at most (registry + control types + 1)
 * × kinds × directions, plus methods × codes for the histogram, whatever peers send.
 *
 * Several engines may publish into one prom registry: a client and a server as they are, two
 * of the same role under different prefixes. Two open engines with the same prefix and labels
 * would count into the same series, so the second is refused ({@link MetricsConflictError});
 * once the first is closed ({@link close}), a new one takes its place.
 */
export class EngineMetrics {
    registry;
    /**
     * TYPE_ id → slot of the counters. Slot 0 is `unknown`; then the control types, then the
     * registry's entries: the counters, and so the series, grow with the registry, never with
     * the ids a peer makes up (PROTOCOL.md §4: a REQUEST may name any id).
     */
    #slotOf = new Uint16Array(TYPES);
    #slotNames = [UNKNOWN_LABEL];
    #framesIn;
    #framesOut;
    #bytesInByType;
    #bytesOutByType;
    /** Frame-counter cells published even at 0: each known type under the kinds it travels as. */
    #zeroFrameCells = new Set();
    #bytesInRaw = 0;
    /** Label values of error codes: the known ones and the application's; others are OTHER. */
    #codes;
    /** Method names of the registry: the only `method` label values. */
    #methods;
    #errors = new Map();
    #latency = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: 3 });
    #callHistogram;
    #callChildren = new Map();
    #sourceKey;
    #closed = false;
    /** The constant labels (e.g. role), which every series of this engine carries. */
    constLabels;
    #rttNs;
    #clock;
    /** Reads queue depth, drops, connections and evictions at scrape time. */
    sources = {};
    constructor(registry, options = {}) {
        this.registry = registry;
        for (const [id, name] of Object.entries(CONTROL_NAMES)) {
            this.#slotOf[Number(id)] = this.#slotNames.length;
            this.#slotNames.push(name);
        }
        for (const s of registry.summary) {
            this.#slotOf[s.id] = this.#slotNames.length;
            this.#slotNames.push(s.name);
        }
        const slots = this.#slotNames.length;
        // Series that exist from the start at 0 (a dashboard shows 0, not "No data"): control types
        // as CONTROL frames, messages as EVENTs, methods as REQUEST, RESPONSE and ERROR, stream
        // methods as OPEN, DATA, WINDOW and RESET.
        for (const id of Object.keys(CONTROL_NAMES))
            this.#zeroFrameCells.add(Kind.CONTROL * slots + this.#slotOf[Number(id)]);
        for (const s of registry.summary) {
            const kinds = s.kind === 'message' ? [Kind.EVENT] : s.kind === 'method' ? [Kind.REQUEST, Kind.RESPONSE, Kind.ERROR] : [Kind.OPEN, Kind.DATA, Kind.WINDOW, Kind.RESET];
            for (const k of kinds)
                if (k < KIND_ROWS)
                    this.#zeroFrameCells.add(k * slots + this.#slotOf[s.id]);
        }
        this.#framesIn = new Float64Array(KIND_ROWS * slots);
        this.#framesOut = new Float64Array(KIND_ROWS * slots);
        this.#bytesInByType = new Float64Array(slots);
        this.#bytesOutByType = new Float64Array(slots);
        this.#codes = new Set([...KNOWN_ERROR_CODES, ...(options.codes ?? [])]);
        this.#methods = new Set(registry.summary.filter((s) => s.kind === 'method').map((s) => s.name));
        this.constLabels = { ...(options.labels ?? {}) };
        this.#sourceKey = JSON.stringify(Object.entries(this.constLabels).sort());
        const prom = options.promRegistry;
        if (!prom)
            return;
        const prefix = options.prefix ?? 'vsockrpc_';
        const constNames = Object.keys(this.constLabels).sort();
        const key = `${prefix}\0${constNames.join(',')}`;
        let byKey = publishers.get(prom);
        if (!byKey)
            publishers.set(prom, (byKey = new Map()));
        let publisher = byKey.get(key);
        if (!publisher) {
            const clash = [...byKey.keys()].find((k) => k.split('\0')[0] === prefix);
            if (clash !== undefined) {
                throw new MetricsConflictError(`this prom registry already has ${prefix}* metrics labelled by [${clash.split('\0')[1]}], not [${constNames.join(',')}]: use another metricsPrefix`);
            }
            publisher = new PromPublisher(prom, prefix, constNames);
            byKey.set(key, publisher);
        }
        if (publisher.sources.get(this.#sourceKey)?.closed === false) {
            throw new MetricsConflictError(`another open engine already publishes ${prefix}* metrics labelled {${Object.entries(this.constLabels)
                .map(([k, v]) => `${k}="${v}"`)
                .join(',')}} into this prom registry: give one of them another metricsPrefix, or close it first`);
        }
        publisher.sources.set(this.#sourceKey, this);
        this.#callHistogram = publisher.callHistogram;
    }
    /** Whether {@link close} was called. */
    get closed() {
        return this.#closed;
    }
    /**
     * The engine closed. Its final figures (the drops of its last queue, say) stay published
     * until another engine with the same prefix and labels takes its place in the prom registry.
     */
    close() {
        this.#closed = true;
    }
    /** @internal For the publisher: each nonzero frame count with its labels. */
    forEachFrameCount(visit) {
        const slots = this.#slotNames.length;
        for (const [direction, arr] of [
            ['in', this.#framesIn],
            ['out', this.#framesOut],
        ]) {
            for (let i = 0; i < arr.length; i++) {
                const v = arr[i];
                if (v > 0 || this.#zeroFrameCells.has(i))
                    visit({ ...this.constLabels, direction, kind: KIND_LABELS[Math.floor(i / slots)], type: this.#slotNames[i % slots] }, v);
            }
        }
    }
    /** @internal For the publisher: each nonzero byte count with its labels. */
    forEachByteCount(visit) {
        for (const [direction, arr] of [
            ['in', this.#bytesInByType],
            ['out', this.#bytesOutByType],
        ]) {
            // Every known type from the start (0 included); `unknown` (slot 0) only once it happens.
            for (let i = 0; i < arr.length; i++)
                if (i > 0 || arr[i] > 0)
                    visit({ ...this.constLabels, direction, type: this.#slotNames[i] }, arr[i]);
        }
    }
    /** The label value of error code `code`: itself when known (or declared by the application), else OTHER. */
    codeLabel(code) {
        return this.#codes.has(code) ? code : OTHER_CODE;
    }
    /** The last keepalive round-trip time, ns. */
    get rttNs() {
        return this.#rttNs;
    }
    /** The clock's state as last recorded. */
    get clockFigures() {
        return this.#clock;
    }
    /** Counts an inbound frame; a TYPE_ id outside the registry and the control types counts as `unknown`. */
    frameIn(type, kind, bytes) {
        const slot = this.#slotOf[type & 0xffff];
        this.#framesIn[(kind >= 0 && kind < 9 ? kind : 9) * this.#slotNames.length + slot]++;
        this.#bytesInByType[slot] += bytes;
    }
    /** Counts an outbound frame (types as in {@link frameIn}). */
    frameOut(type, kind, bytes) {
        const slot = this.#slotOf[type & 0xffff];
        this.#framesOut[(kind >= 0 && kind < 9 ? kind : 9) * this.#slotNames.length + slot]++;
        this.#bytesOutByType[slot] += bytes;
    }
    /** Counts raw bytes read from sockets. */
    bytesIn(n) {
        this.#bytesInRaw += n;
    }
    /**
     * Counts an error by its code. Some codes come from the peer (a GOAWAY's): outside the
     * allowlist ({@link codeLabel}) they count as OTHER, so their number is fixed.
     */
    error(code) {
        code = this.codeLabel(code);
        this.#errors.set(code, (this.#errors.get(code) ?? 0) + 1);
    }
    /** Records a finished call. */
    callDone(method, seconds, code) {
        this.#latency.recordValue(Math.max(1, Math.round(seconds * 1e6)));
        if (!this.#callHistogram)
            return;
        // prom-client hashes and validates a label object on every observe (~2 µs); its child for
        // one label set skips most of that (~0.4 µs), and a connection sees few (method, code) pairs.
        (this.#callChildren.get(`${method}\0${code}`) ?? this.#callChild(method, code)).observe(seconds);
    }
    /**
     * The histogram child of (method, code), made on first use. The code comes from the peer
     * (an ERROR frame's): both labels are mapped to the allowlists first, so the children, keyed
     * by the labels, number at most methods × codes, and the raw pair is a key only when it
     * equals its labels.
     */
    #callChild(rawMethod, rawCode) {
        const method = this.#methods.has(rawMethod) ? rawMethod : UNKNOWN_LABEL;
        const code = this.codeLabel(rawCode);
        const key = `${method}\0${code}`;
        let child = this.#callChildren.get(key);
        if (!child) {
            child = this.#callHistogram.labels({ ...this.constLabels, method, code });
            this.#callChildren.set(key, child);
        }
        return child;
    }
    /** Records a keepalive round trip. */
    rtt(ns) {
        this.#rttNs = ns;
    }
    /** Records the clock's state. */
    clock(figures) {
        this.#clock = figures;
    }
    /** Call latency percentiles in µs since creation (or the last reset). */
    latency() {
        const h = this.#latency;
        return {
            count: h.totalCount,
            p50: h.getValueAtPercentile(50),
            p90: h.getValueAtPercentile(90),
            p99: h.getValueAtPercentile(99),
            p999: h.getValueAtPercentile(99.9),
            max: h.maxValue,
        };
    }
    /** Clears the latency histogram. */
    resetLatency() {
        this.#latency.reset();
    }
    /** Error counts by code. */
    errors() {
        return Object.fromEntries(this.#errors);
    }
    /** Frames in and out summed over types. */
    totals() {
        let fi = 0;
        let fo = 0;
        for (let i = 0; i < this.#framesIn.length; i++) {
            fi += this.#framesIn[i];
            fo += this.#framesOut[i];
        }
        return { framesIn: fi, framesOut: fo, bytesIn: this.#bytesInRaw };
    }
}
//# sourceMappingURL=metrics.js.map
import * as hdr from 'hdr-histogram-js';
import { Counter, Gauge, Histogram, type Registry as PromRegistry } from 'prom-client';
import { CONTROL_NAMES, KIND_NAMES, VsockRpcError, type Registry } from '@vsock-rpc/wire';

/** Percentiles of call latency in microseconds, from hdr-histogram-js. */
export interface LatencySummary {
  readonly count: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
}

/** Two engines would publish the same series into one prom registry (code METRICS_CONFLICT). */
export class MetricsConflictError extends VsockRpcError {
  constructor(message: string) {
    super('METRICS_CONFLICT', message);
  }
}

/** Clock figures an engine reports (see the clock module). */
export interface ClockFigures {
  readonly offsetNs: bigint;
  readonly errorBoundNs: bigint;
  readonly driftPpm: number;
  readonly lastSyncMs: number;
}

/** Options of {@link EngineMetrics}. */
export interface EngineMetricsOptions {
  /** A prom-client registry to publish into; without one, figures are still kept for `snapshot()`. */
  readonly promRegistry?: PromRegistry;
  /** Metric name prefix (default 'vsockrpc_'). */
  readonly prefix?: string;
  /** Constant labels, e.g. { role: 'server' }. */
  readonly labels?: Record<string, string>;
}

const TYPES = 0x10000;
/** Most (method, code) label sets of the call histogram, and error codes, per engine; later codes count as OTHER. */
const MAX_CALL_SERIES = 1024;

/**
 * The prom-client metrics of one prom registry and prefix. Every engine that publishes there
 * (a server and a client in one process, say) is one source, told apart by its constant labels
 * (`role`); each scrape walks all sources. prom-client allows one metric object per name in a
 * registry, so the objects are made once, by the first engine, and shared.
 */
class PromPublisher {
  readonly sources = new Map<string, EngineMetrics>();
  readonly callHistogram: Histogram<string>;

  constructor(prom: PromRegistry, p: string, constNames: readonly string[]) {
    const registers = [prom];
    const sources = () => this.sources.values();
    new Counter({
      name: `${p}frames_total`,
      help: 'Frames by direction, kind and TYPE_',
      labelNames: [...constNames, 'direction', 'kind', 'type'],
      registers,
      collect() {
        this.reset();
        for (const m of sources()) m.forEachFrameCount((labels, v) => this.inc(labels, v));
      },
    });
    new Counter({
      name: `${p}bytes_total`,
      help: 'Bytes (header + payload) by direction and TYPE_',
      labelNames: [...constNames, 'direction', 'type'],
      registers,
      collect() {
        this.reset();
        for (const m of sources()) m.forEachByteCount((labels, v) => this.inc(labels, v));
      },
    });
    new Counter({
      name: `${p}errors_total`,
      help: 'Errors by code (protocol errors, schema violations, failed calls, closed connections)',
      labelNames: [...constNames, 'code'],
      registers,
      collect() {
        this.reset();
        for (const m of sources()) for (const [code, n] of Object.entries(m.errors())) this.inc({ ...m.constLabels, code }, n);
      },
    });
    this.callHistogram = new Histogram({
      name: `${p}call_duration_seconds`,
      help: 'Call latency seen by the caller, by method and result code',
      labelNames: [...constNames, 'method', 'code'],
      buckets: [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1, 0.5, 2, 10],
      registers,
    });
    new Gauge({
      name: `${p}queue_depth`,
      help: 'Events waiting in outbound queues',
      labelNames: constNames,
      registers,
      collect() {
        this.reset();
        for (const m of sources()) this.set(m.constLabels, m.sources.queueDepth?.() ?? 0);
      },
    });
    new Counter({
      name: `${p}dropped_events_total`,
      help: 'Outbound events dropped by queue policy, by reason',
      labelNames: [...constNames, 'reason'],
      registers,
      collect() {
        this.reset();
        for (const m of sources()) for (const [reason, n] of Object.entries(m.sources.dropped?.() ?? {})) this.inc({ ...m.constLabels, reason }, n);
      },
    });
    new Gauge({
      name: `${p}connections`,
      help: 'Open connections',
      labelNames: constNames,
      registers,
      collect() {
        this.reset();
        for (const m of sources()) this.set(m.constLabels, m.sources.connections?.() ?? 0);
      },
    });
    new Gauge({
      name: `${p}rtt_seconds`,
      help: 'Last keepalive round-trip time',
      labelNames: constNames,
      registers,
      collect() {
        this.reset();
        for (const m of sources()) if (m.rttNs !== undefined) this.set(m.constLabels, Number(m.rttNs) / 1e9);
      },
    });
    const clockGauge = (name: string, help: string, read: (c: ClockFigures) => number) =>
      new Gauge({
        name: `${p}${name}`,
        help,
        labelNames: constNames,
        registers,
        collect() {
          this.reset();
          for (const m of sources()) if (m.clockFigures) this.set(m.constLabels, read(m.clockFigures));
        },
      });
    clockGauge('clock_offset_seconds', 'Clock offset, local minus remote', (c) => Number(c.offsetNs) / 1e9);
    clockGauge('clock_error_bound_seconds', 'Error bound of the clock offset (delay / 2)', (c) => Number(c.errorBoundNs) / 1e9);
    clockGauge('clock_drift_ppm', 'Estimated drift d(local − remote)/d(local) in ppm: positive means the local clock runs faster', (c) => c.driftPpm);
    clockGauge('clock_last_sync_timestamp_seconds', 'Unix time of the last clock sync', (c) => c.lastSyncMs / 1000);
  }
}

/** The publishers of each prom registry, by prefix and label names. */
const publishers = new WeakMap<PromRegistry, Map<string, PromPublisher>>();

/**
 * The metrics of one engine. The hot path only increments typed arrays indexed by TYPE_ id and
 * kind; prom-client reads them when scraped (its `collect` hooks), so publishing costs nothing
 * per frame.
 *
 * Published: `<prefix>frames_total{direction,kind,type}`, `<prefix>bytes_total{direction,type}`,
 * `<prefix>errors_total{code}`, `<prefix>call_duration_seconds{method,code}` (histogram),
 * `<prefix>queue_depth`, `<prefix>dropped_events_total{reason}`, `<prefix>connections`,
 * `<prefix>rtt_seconds`, `<prefix>clock_offset_seconds`, `<prefix>clock_error_bound_seconds`,
 * `<prefix>clock_drift_ppm`, `<prefix>clock_last_sync_timestamp_seconds`; each also carries the
 * constant labels (the engines set `role`: 'client' or 'server').
 *
 * Several engines may publish into one prom registry: a client and a server as they are, two
 * of the same role under different prefixes. Two open engines with the same prefix and labels
 * would count into the same series, so the second is refused ({@link MetricsConflictError});
 * once the first is closed ({@link close}), a new one takes its place.
 */
export class EngineMetrics {
  readonly #framesIn = new Float64Array(5 * TYPES);
  readonly #framesOut = new Float64Array(5 * TYPES);
  readonly #bytesInByType = new Float64Array(TYPES);
  readonly #bytesOutByType = new Float64Array(TYPES);
  #bytesInRaw = 0;
  readonly #errors = new Map<string, number>();
  readonly #latency = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: 3 });
  readonly #callHistogram: Histogram<string> | undefined;
  readonly #callChildren = new Map<string, { observe(value: number): void }>();
  readonly #publisher: PromPublisher | undefined;
  readonly #sourceKey: string;
  #closed = false;
  /** The constant labels (e.g. role), which every series of this engine carries. */
  readonly constLabels: Readonly<Record<string, string>>;
  #rttNs: bigint | undefined;
  #clock: ClockFigures | undefined;
  /** Reads queue depth, drops and connections at scrape time. */
  sources: { queueDepth?: () => number; dropped?: () => Record<string, number>; connections?: () => number } = {};

  constructor(
    readonly registry: Registry,
    options: EngineMetricsOptions = {},
  ) {
    this.constLabels = { ...(options.labels ?? {}) };
    this.#sourceKey = JSON.stringify(Object.entries(this.constLabels).sort());
    const prom = options.promRegistry;
    if (!prom) return;
    const prefix = options.prefix ?? 'vsockrpc_';
    const constNames = Object.keys(this.constLabels).sort();
    const key = `${prefix}\0${constNames.join(',')}`;
    let byKey = publishers.get(prom);
    if (!byKey) publishers.set(prom, (byKey = new Map()));
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
      throw new MetricsConflictError(
        `another open engine already publishes ${prefix}* metrics labelled {${Object.entries(this.constLabels).map(([k, v]) => `${k}="${v}"`).join(',')}} into this prom registry: give one of them another metricsPrefix, or close it first`,
      );
    }
    publisher.sources.set(this.#sourceKey, this);
    this.#publisher = publisher;
    this.#callHistogram = publisher.callHistogram;
  }

  /** Whether {@link close} was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * The engine closed. Its final figures (the drops of its last queue, say) stay published
   * until another engine with the same prefix and labels takes its place in the prom registry.
   */
  close(): void {
    this.#closed = true;
  }

  /** @internal For the publisher: each nonzero frame count with its labels. */
  forEachFrameCount(visit: (labels: Record<string, string>, count: number) => void): void {
    for (const [direction, arr] of [['in', this.#framesIn], ['out', this.#framesOut]] as const) {
      for (let i = 0; i < arr.length; i++) {
        const v = arr[i]!;
        if (v > 0) visit({ ...this.constLabels, direction, kind: KIND_NAMES[Math.floor(i / TYPES)] ?? '?', type: this.#typeName(i % TYPES) }, v);
      }
    }
  }

  /** @internal For the publisher: each nonzero byte count with its labels. */
  forEachByteCount(visit: (labels: Record<string, string>, bytes: number) => void): void {
    for (const [direction, arr] of [['in', this.#bytesInByType], ['out', this.#bytesOutByType]] as const) {
      for (let i = 0; i < arr.length; i++) if (arr[i]! > 0) visit({ ...this.constLabels, direction, type: this.#typeName(i) }, arr[i]!);
    }
  }

  #typeName(t: number): string {
    return CONTROL_NAMES[t] ?? this.registry.messageById(t)?.name ?? this.registry.methodById(t)?.name ?? String(t);
  }

  /** The last keepalive round-trip time, ns. */
  get rttNs(): bigint | undefined {
    return this.#rttNs;
  }

  /** The clock's state as last recorded. */
  get clockFigures(): ClockFigures | undefined {
    return this.#clock;
  }

  /** Counts an inbound frame. */
  frameIn(type: number, kind: number, bytes: number): void {
    this.#framesIn[kind * TYPES + type]!++;
    this.#bytesInByType[type]! += bytes;
  }

  /** Counts an outbound frame. */
  frameOut(type: number, kind: number, bytes: number): void {
    this.#framesOut[kind * TYPES + type]!++;
    this.#bytesOutByType[type]! += bytes;
  }

  /** Counts raw bytes read from sockets. */
  bytesIn(n: number): void {
    this.#bytesInRaw += n;
  }

  /** Counts an error by its code. */
  error(code: string): void {
    // Some codes come from the peer (a GOAWAY's): bounded like the call histogram's.
    if (!this.#errors.has(code) && this.#errors.size >= MAX_CALL_SERIES) code = 'OTHER';
    this.#errors.set(code, (this.#errors.get(code) ?? 0) + 1);
  }

  /** Records a finished call. */
  callDone(method: string, seconds: number, code: string): void {
    this.#latency.recordValue(Math.max(1, Math.round(seconds * 1e6)));
    if (!this.#callHistogram) return;
    // prom-client hashes and validates a label object on every observe (~2 µs); its child for
    // one label set skips most of that (~0.4 µs), and a connection sees few (method, code) pairs.
    (this.#callChildren.get(`${method}\0${code}`) ?? this.#callChild(method, code)).observe(seconds);
  }

  /**
   * The histogram child of (method, code), made on first use. Error codes come from the peer:
   * past MAX_CALL_SERIES label sets, new ones count as OTHER, so a peer cannot grow the
   * exposition (and our memory) without bound.
   */
  #callChild(method: string, code: string): { observe(value: number): void } {
    if (this.#callChildren.size >= MAX_CALL_SERIES) code = 'OTHER';
    const key = `${method}\0${code}`;
    let child = this.#callChildren.get(key);
    if (!child) {
      child = this.#callHistogram!.labels({ ...this.constLabels, method, code });
      this.#callChildren.set(key, child);
    }
    return child;
  }

  /** Records a keepalive round trip. */
  rtt(ns: bigint): void {
    this.#rttNs = ns;
  }

  /** Records the clock's state. */
  clock(figures: ClockFigures): void {
    this.#clock = figures;
  }

  /** Call latency percentiles in µs since creation (or the last reset). */
  latency(): LatencySummary {
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
  resetLatency(): void {
    this.#latency.reset();
  }

  /** Error counts by code. */
  errors(): Record<string, number> {
    return Object.fromEntries(this.#errors);
  }

  /** Frames in and out summed over types. */
  totals(): { framesIn: number; framesOut: number; bytesIn: number } {
    let fi = 0;
    let fo = 0;
    for (let i = 0; i < this.#framesIn.length; i++) {
      fi += this.#framesIn[i]!;
      fo += this.#framesOut[i]!;
    }
    return { framesIn: fi, framesOut: fo, bytesIn: this.#bytesInRaw };
  }
}

import * as hdr from 'hdr-histogram-js';
import { Counter, Gauge, Histogram, type Registry as PromRegistry } from 'prom-client';
import { CONTROL_NAMES, KIND_NAMES, type Registry } from '@vsock-rpc/wire';

/** Percentiles of call latency in microseconds, from hdr-histogram-js. */
export interface LatencySummary {
  readonly count: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
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

/**
 * The metrics of one engine. The hot path only increments typed arrays indexed by TYPE_ id and
 * kind; prom-client reads them when scraped (its `collect` hooks), so publishing costs nothing
 * per frame.
 *
 * Published: `<prefix>frames_total{direction,kind,type}`, `<prefix>bytes_total{direction,type}`,
 * `<prefix>errors_total{code}`, `<prefix>call_duration_seconds{method,code}` (histogram),
 * `<prefix>queue_depth`, `<prefix>dropped_events_total{reason}`, `<prefix>connections`,
 * `<prefix>rtt_seconds`, `<prefix>clock_offset_seconds`, `<prefix>clock_error_bound_seconds`,
 * `<prefix>clock_drift_ppm`, `<prefix>clock_last_sync_timestamp_seconds`.
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
  // The constant labels (e.g. role), which observations must carry like every collected metric.
  #constLabels: Record<string, string> = {};
  #rttNs: bigint | undefined;
  #clock: ClockFigures | undefined;
  /** Reads queue depth, drops and connections at scrape time. */
  sources: { queueDepth?: () => number; dropped?: () => Record<string, number>; connections?: () => number } = {};

  constructor(
    readonly registry: Registry,
    options: EngineMetricsOptions = {},
  ) {
    const prom = options.promRegistry;
    if (!prom) return;
    const p = options.prefix ?? 'vsockrpc_';
    const registers = [prom];
    const constLabels = options.labels ?? {};
    this.#constLabels = constLabels;
    const constNames = Object.keys(constLabels);
    const self = this;
    const typeName = (t: number) => CONTROL_NAMES[t] ?? registry.messageById(t)?.name ?? registry.methodById(t)?.name ?? String(t);
    new Counter({
      name: `${p}frames_total`,
      help: 'Frames by direction, kind and TYPE_',
      labelNames: [...constNames, 'direction', 'kind', 'type'],
      registers,
      collect() {
        this.reset();
        for (const [direction, arr] of [['in', self.#framesIn], ['out', self.#framesOut]] as const) {
          for (let i = 0; i < arr.length; i++) {
            const v = arr[i]!;
            if (v > 0) this.inc({ ...constLabels, direction, kind: KIND_NAMES[Math.floor(i / TYPES)] ?? '?', type: typeName(i % TYPES) }, v);
          }
        }
      },
    });
    new Counter({
      name: `${p}bytes_total`,
      help: 'Bytes (header + payload) by direction and TYPE_',
      labelNames: [...constNames, 'direction', 'type'],
      registers,
      collect() {
        this.reset();
        for (const [direction, arr] of [['in', self.#bytesInByType], ['out', self.#bytesOutByType]] as const) {
          for (let i = 0; i < arr.length; i++) if (arr[i]! > 0) this.inc({ ...constLabels, direction, type: typeName(i) }, arr[i]!);
        }
      },
    });
    new Counter({
      name: `${p}errors_total`,
      help: 'Errors by code (protocol errors, schema violations, failed calls, closed connections)',
      labelNames: [...constNames, 'code'],
      registers,
      collect() {
        this.reset();
        for (const [code, n] of self.#errors) this.inc({ ...constLabels, code }, n);
      },
    });
    this.#callHistogram = new Histogram({
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
        this.set(constLabels, self.sources.queueDepth?.() ?? 0);
      },
    });
    new Counter({
      name: `${p}dropped_events_total`,
      help: 'Outbound events dropped by queue policy, by reason',
      labelNames: [...constNames, 'reason'],
      registers,
      collect() {
        this.reset();
        for (const [reason, n] of Object.entries(self.sources.dropped?.() ?? {})) this.inc({ ...constLabels, reason }, n);
      },
    });
    new Gauge({
      name: `${p}connections`,
      help: 'Open connections',
      labelNames: constNames,
      registers,
      collect() {
        this.set(constLabels, self.sources.connections?.() ?? 0);
      },
    });
    new Gauge({
      name: `${p}rtt_seconds`,
      help: 'Last keepalive round-trip time',
      labelNames: constNames,
      registers,
      collect() {
        if (self.#rttNs !== undefined) this.set(constLabels, Number(self.#rttNs) / 1e9);
      },
    });
    const clockGauge = (name: string, help: string, read: (c: ClockFigures) => number) =>
      new Gauge({
        name: `${p}${name}`,
        help,
        labelNames: constNames,
        registers,
        collect() {
          if (self.#clock) this.set(constLabels, read(self.#clock));
        },
      });
    clockGauge('clock_offset_seconds', 'Clock offset, local minus remote', (c) => Number(c.offsetNs) / 1e9);
    clockGauge('clock_error_bound_seconds', 'Error bound of the clock offset (delay / 2)', (c) => Number(c.errorBoundNs) / 1e9);
    clockGauge('clock_drift_ppm', 'Estimated drift d(local − remote)/d(local) in ppm: positive means the local clock runs faster', (c) => c.driftPpm);
    clockGauge('clock_last_sync_timestamp_seconds', 'Unix time of the last clock sync', (c) => c.lastSyncMs / 1000);
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
    this.#errors.set(code, (this.#errors.get(code) ?? 0) + 1);
  }

  /** Records a finished call. */
  callDone(method: string, seconds: number, code: string): void {
    this.#latency.recordValue(Math.max(1, Math.round(seconds * 1e6)));
    this.#callHistogram?.observe({ ...this.#constLabels, method, code }, seconds);
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

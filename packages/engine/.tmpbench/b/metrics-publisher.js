/**
 * Where the engines' counters meet prom-client: one set of metric objects per prom registry and
 * prefix, shared by every engine that publishes there, read from the engines' typed arrays when
 * Prometheus scrapes (so publishing costs nothing per frame).
 */
import { Counter, Gauge, Histogram } from 'prom-client';
import { DROP_REASONS, EVICTION_REASONS, ZERO_ERRORS } from './metric-labels.js';
/**
 * The prom-client metrics of one prom registry and prefix. Every engine that publishes there
 * (a server and a client in one process, say) is one source, told apart by its constant labels
 * (`role`); each scrape walks all sources. prom-client allows one metric object per name in a
 * registry, so the objects are made once, by the first engine, and shared.
 */
export class PromPublisher {
    sources = new Map();
    callHistogram;
    constructor(prom, p, constNames) {
        const registers = [prom];
        const sources = () => this.sources.values();
        new Counter({
            name: `${p}frames_total`,
            help: 'Frames by direction, kind and TYPE_',
            labelNames: [...constNames, 'direction', 'kind', 'type'],
            registers,
            collect() {
                this.reset();
                for (const m of sources())
                    m.forEachFrameCount((labels, v) => this.inc(labels, v));
            },
        });
        new Counter({
            name: `${p}bytes_total`,
            help: 'Bytes (header + payload) by direction and TYPE_',
            labelNames: [...constNames, 'direction', 'type'],
            registers,
            collect() {
                this.reset();
                for (const m of sources())
                    m.forEachByteCount((labels, v) => this.inc(labels, v));
            },
        });
        new Counter({
            name: `${p}errors_total`,
            help: 'Errors by code (protocol errors, schema violations, failed calls, closed connections)',
            labelNames: [...constNames, 'code'],
            registers,
            collect() {
                this.reset();
                // The codes of PROTOCOL.md §6 exist from the start at 0, so that a dashboard's
                // rate(errors_total) shows 0 rather than "No data" before the first error.
                for (const m of sources())
                    for (const [code, n] of Object.entries({ ...ZERO_ERRORS, ...m.errors() }))
                        this.inc({ ...m.constLabels, code }, n);
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
                for (const m of sources())
                    this.set(m.constLabels, m.sources.queueDepth?.() ?? 0);
            },
        });
        new Counter({
            name: `${p}dropped_events_total`,
            help: 'Outbound events dropped by queue policy, by reason',
            labelNames: [...constNames, 'reason'],
            registers,
            collect() {
                this.reset();
                for (const m of sources()) {
                    const d = m.sources.dropped?.();
                    if (d)
                        for (const reason of DROP_REASONS)
                            this.inc({ ...m.constLabels, reason }, d[reason] ?? 0);
                }
            },
        });
        new Counter({
            name: `${p}connections_evicted_total`,
            help: 'Connections a full server closed (GOAWAY CONNECTION_LIMIT) to admit a newcomer, by what they were: handshake (no HELLO yet) or idle',
            labelNames: [...constNames, 'reason'],
            registers,
            collect() {
                this.reset();
                for (const m of sources()) {
                    const e = m.sources.evicted?.();
                    if (!e)
                        continue;
                    for (const reason of EVICTION_REASONS)
                        this.inc({ ...m.constLabels, reason }, e[reason]);
                }
            },
        });
        new Gauge({
            name: `${p}connections`,
            help: 'Open connections',
            labelNames: constNames,
            registers,
            collect() {
                this.reset();
                for (const m of sources())
                    this.set(m.constLabels, m.sources.connections?.() ?? 0);
            },
        });
        new Gauge({
            name: `${p}rtt_seconds`,
            help: 'Last keepalive round-trip time',
            labelNames: constNames,
            registers,
            collect() {
                this.reset();
                for (const m of sources())
                    if (m.rttNs !== undefined)
                        this.set(m.constLabels, Number(m.rttNs) / 1e9);
            },
        });
        const clockGauge = (name, help, read) => new Gauge({
            name: `${p}${name}`,
            help,
            labelNames: constNames,
            registers,
            collect() {
                this.reset();
                for (const m of sources())
                    if (m.clockFigures)
                        this.set(m.constLabels, read(m.clockFigures));
            },
        });
        clockGauge('clock_offset_seconds', 'Clock offset, local minus remote', (c) => Number(c.offsetNs) / 1e9);
        clockGauge('clock_error_bound_seconds', 'Error bound of the clock offset (delay / 2)', (c) => Number(c.errorBoundNs) / 1e9);
        clockGauge('clock_drift_ppm', 'Estimated drift d(local − remote)/d(local) in ppm: positive means the local clock runs faster', (c) => c.driftPpm);
        clockGauge('clock_last_sync_timestamp_seconds', 'Unix time of the last clock sync', (c) => c.lastSyncMs / 1000);
    }
}
/** The publishers of each prom registry, by prefix and label names. */
export const publishers = new WeakMap();
//# sourceMappingURL=metrics-publisher.js.map
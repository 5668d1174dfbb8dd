/**
 * envtest's own Prometheus metrics (the engine publishes its own under `vsockrpc_`). Values are
 * read from the timeline's counters when scraped, so the event path pays nothing for them.
 */
import { Counter, Gauge, Registry } from 'prom-client';
import type { TimelineStats } from '@vsock-rpc/trace';
import type { FtraceLosses } from './ftrace/losses.js';

/** CPU indices above this share the `cpu="other"` series: a guest must not grow the label set. */
export const MAX_CPU_LABEL = 63;

/** What the metrics read at scrape time. */
export interface EnvtestMetricSources {
  timeline: () => TimelineStats;
  /** Drops outside the timeline, by where they happened. */
  dropped: () => Record<string, number>;
  /** Events written by the --export exporter. */
  exported: () => number;
  /** Sources whose per-source series exist from the start, at 0 (the host's own). */
  always?: readonly string[];
  /** With --ftrace: the book of ftrace events and losses per source and CPU. */
  ftrace?: () => FtraceLosses;
}

/** Names of the metrics, for the dashboard and the tests. */
export const ENVTEST_METRIC_NAMES = [
  'envtest_events_total',
  'envtest_late_events_total',
  'envtest_dropped_events_total',
  'envtest_merge_buffered',
  'envtest_released_events_total',
  'envtest_exported_events_total',
  'envtest_sources_active',
  'envtest_guest_clock_offset_seconds',
  'envtest_guest_clock_error_bound_seconds',
  'envtest_guest_clock_drift_ppm',
  'envtest_ftrace_events_total',
  'envtest_ftrace_lost_events_total',
  'envtest_ftrace_bad_pages_total',
  'envtest_guest_reported_ftrace_lost_events',
] as const;

/** A registry with envtest's metrics. */
export function envtestRegistry(src: EnvtestMetricSources): Registry {
  const registers = [new Registry()];
  const perSource = (read: (s: TimelineStats['bySource'][string]) => number | undefined) =>
    function (this: Counter | Gauge) {
      this.reset();
      for (const [source, st] of Object.entries(src.timeline().bySource)) {
        const v = read(st);
        if (v !== undefined) (this as Gauge).set({ source }, v);
      }
    };
  // Counters are exposed by setting them from the source of truth at scrape time: reset then
  // inc to the current total (prom-client counters have no set()).
  const counterFrom = (read: (s: TimelineStats['bySource'][string]) => number) =>
    function (this: Counter) {
      this.reset();
      // Every known source has its series from the start, at 0: a dashboard shows 0, not "No data".
      for (const source of src.always ?? []) this.inc({ source }, 0);
      for (const [source, st] of Object.entries(src.timeline().bySource)) this.inc({ source }, read(st));
    };
  new Counter({
    name: 'envtest_events_total',
    help: 'Events received by the merge, by source',
    labelNames: ['source'],
    registers,
    collect: counterFrom((s) => s.events),
  });
  new Counter({
    name: 'envtest_late_events_total',
    help: 'Late events (below the released timeline), by source',
    labelNames: ['source'],
    registers,
    collect: counterFrom((s) => s.late),
  });
  new Counter({
    name: 'envtest_dropped_events_total',
    help: 'Events dropped on this host, by where (channel, exporter, timeline, overflow, future)',
    labelNames: ['where'],
    registers,
    collect() {
      this.reset();
      const t = src.timeline();
      const all: Record<string, number> = { ...src.dropped(), timeline: t.dropped, overflow: t.overflow, future: t.future };
      for (const [where, n] of Object.entries(all)) this.inc({ where }, n);
    },
  });
  // What the guests say they dropped is their claim, not a measurement of this host's: a series
  // of its own, so that no guest can inflate the host's drop count (ARCHITECTURE.md, "A guest is hostile").
  new Gauge({
    name: 'envtest_guest_reported_dropped_events',
    help: "Events the guests' agents REPORT they dropped (their claim, clamped; not measured by this host)",
    registers,
    collect() {
      this.set(src.timeline().agentDropped);
    },
  });
  new Gauge({
    name: 'envtest_merge_buffered',
    help: 'Events waiting in the watermark merge',
    registers,
    collect() {
      this.set(src.timeline().buffered);
    },
  });
  new Counter({
    name: 'envtest_released_events_total',
    help: 'Events released in timeline order',
    registers,
    collect() {
      this.reset();
      this.inc(src.timeline().released);
    },
  });
  new Counter({
    name: 'envtest_exported_events_total',
    help: 'Events written by the --export exporter',
    registers,
    collect() {
      this.reset();
      this.inc(src.exported());
    },
  });
  new Gauge({
    name: 'envtest_sources_active',
    help: 'Sources holding the timeline (connected guests and the host hook)',
    registers,
    collect() {
      this.set(Object.values(src.timeline().bySource).filter((s) => s.active).length);
    },
  });
  new Gauge({
    name: 'envtest_guest_clock_offset_seconds',
    help: "A guest's clock minus the host's, as its agent estimates it",
    labelNames: ['source'],
    registers,
    collect: perSource((s) => (s.agent?.clock ? Number(s.agent.clock.offsetNs) / 1e9 : undefined)),
  });
  new Gauge({
    name: 'envtest_guest_clock_error_bound_seconds',
    help: 'Error bound of the guest clock offset',
    labelNames: ['source'],
    registers,
    collect: perSource((s) => (s.agent?.clock ? Number(s.agent.clock.errorBoundNs) / 1e9 : undefined)),
  });
  new Gauge({
    name: 'envtest_guest_clock_drift_ppm',
    help: 'Estimated drift of the guest clock, ppm',
    labelNames: ['source'],
    registers,
    collect: perSource((s) => s.agent?.clock?.driftPpm),
  });
  if (src.ftrace) ftraceMetrics(src.ftrace, registers);
  return registers[0]!;
}

/**
 * The ftrace series, per source (the timeline's sources, bounded by FtraceLosses) and CPU (up
 * to {@link MAX_CPU_LABEL}, then `other`): events that arrived (measured here), and the kernel's
 * losses: measured for the host's own reader, a separate `guest_reported` series for what a
 * guest's reader claims.
 */
function ftraceMetrics(book: () => FtraceLosses, registers: Registry[]): void {
  const cpuLabel = (cpu: string): string => (cpu !== 'other' && Number(cpu) <= MAX_CPU_LABEL ? cpu : 'other');
  const each = (fn: (row: ReturnType<FtraceLosses['rows']>[number], cpu: string) => void) => {
    for (const row of book().rows()) fn(row, cpuLabel(row.cpu));
  };
  new Counter({
    name: 'envtest_ftrace_events_total',
    help: 'ftrace events that arrived from each source, by the CPU they were recorded on (measured here)',
    labelNames: ['source', 'cpu'],
    registers,
    collect() {
      this.reset();
      each((r, cpu) => this.inc({ source: r.source, cpu }, r.arrived));
    },
  });
  new Counter({
    name: 'envtest_ftrace_lost_events_total',
    help: "Events this host's kernel lost before its ftrace reader got them (ring-buffer overrun/missed + dropped), by CPU",
    labelNames: ['source', 'cpu'],
    registers,
    collect() {
      this.reset();
      each((r, cpu) => {
        if (!r.claim && r.loss) this.inc({ source: r.source, cpu }, r.loss.lost);
      });
    },
  });
  new Counter({
    name: 'envtest_ftrace_bad_pages_total',
    help: "Ring-buffer pages this host's ftrace reader skipped as truncated or corrupt, by CPU",
    labelNames: ['source', 'cpu'],
    registers,
    collect() {
      this.reset();
      each((r, cpu) => {
        if (!r.claim && r.loss) this.inc({ source: r.source, cpu }, r.loss.badPages);
      });
    },
  });
  new Gauge({
    name: 'envtest_guest_reported_ftrace_lost_events',
    help: "Events a guest's ftrace reader REPORTS its kernel lost, by CPU (its claim, clamped; not measured by this host)",
    labelNames: ['source', 'cpu'],
    registers,
    collect() {
      this.reset();
      each((r, cpu) => {
        if (r.claim && r.loss) this.inc({ source: r.source, cpu }, r.loss.lost);
      });
    },
  });
}

/**
 * Chrome / Perfetto trace exporter (Trace Event Format, JSON object form).
 *
 * @packageDocumentation
 */
import type { TraceEvent } from '../schema.js';
import { StreamExporter, jsonWithBigints, type StreamExporterOptions } from './base.js';
import { CpuTracks, FTRACE_STATS_KIND, SCHED_SWITCH_KIND, cpuOf, lossCounterArgs, runningTask } from './cpu-tracks.js';

/** Options of {@link PerfettoExporter}. */
export interface PerfettoExporterOptions extends StreamExporterOptions {
  /**
   * Sources to give the first pids, in this order (e.g. `['host']` so the host is the top
   * track). Others get the next pid when first seen.
   */
  sourceOrder?: readonly string[];
}

/**
 * Nanoseconds as an exact decimal number of microseconds (`1234567` → `1234.567`).
 * Formatted from the bigint rather than by dividing a double: host monotonic ns exceed 2^53
 * after ~104 days of uptime, and the sub-µs digits must survive.
 */
export function nsToMicrosString(ns: bigint): string {
  const neg = ns < 0n;
  const a = neg ? -ns : ns;
  const whole = a / 1000n;
  const frac = a % 1000n;
  const s = (neg ? '-' : '') + whole.toString();
  return frac === 0n ? s : `${s}.${frac.toString().padStart(3, '0')}`;
}

/** Duration in ns from the `durationNs` field, if usable (finite, ≥ 0). */
function durationOf(e: TraceEvent): bigint | undefined {
  const d = e.fields?.['durationNs'];
  if (typeof d === 'bigint') return d >= 0n ? d : undefined;
  if (typeof d === 'number' && Number.isFinite(d) && d >= 0) return BigInt(Math.round(d));
  return undefined;
}

/**
 * Writes a trace that opens in ui.perfetto.dev and chrome://tracing:
 * `{"displayTimeUnit":"ns","traceEvents":[ ... ]}`.
 *
 * - Every source is its own process track: pid assigned per source (first seen, or
 *   `sourceOrder`), tid = pid, with `process_name`, `process_sort_index` and `thread_name`
 *   metadata events (`ph:'M'`) written before the source's first event.
 * - An event is an instant event (`ph:'i'`, `s:'t'`), or a complete event (`ph:'X'`) when it
 *   has a `durationNs` field: then `ts` is the span's start.
 * - `name` is the event's text (or kind when it has none), `cat` its kind.
 * - `ts` (and `dur`) are microseconds written as exact decimals, sub-µs digits kept.
 * - `args` carry `seq`, `origTs` and `errorBoundNs` (decimal strings), `text` and `fields`
 *   (bigints as decimal strings).
 * - Kernel events (an event with a `common_cpu` field, from the ftrace hook) go on their CPU's
 *   track: a thread `cpu N` of their source's process, so host and each guest (each a process)
 *   have their own CPU tracks, all on host time. `sched:sched_switch` becomes a complete event
 *   named after the task switched to (`next_comm`), from the switch to the next switch on that
 *   CPU (or to the newest timestamp of the trace, at close), carrying the switch's fields as
 *   args; other kernel events are instants on the CPU track; `ftrace:stats` (a reader's loss
 *   counts) becomes a counter `ftrace cpuN` (`lost`, `badPages`) on the process.
 *
 * Streamed: the header is written on construction, each batch as one chunk, and the array and
 * object are closed by {@link PerfettoExporter.close}. A file cut short (crash) lacks only the
 * closing `]}`; Perfetto's importer tolerates that.
 */
export class PerfettoExporter extends StreamExporter {
  readonly #pids = new Map<string, number>();
  /** Sources whose metadata has been written. */
  readonly #named = new Set<string>();
  readonly #cpus = new CpuTracks();
  #nextPid = 1;
  #needComma = false;
  /** Newest timestamp seen: where slices still running at close end. */
  #lastTs: bigint | undefined;

  constructor(options: PerfettoExporterOptions) {
    super(options);
    for (const s of options.sourceOrder ?? []) this.pidOf(s);
    this.tryWrite('{"displayTimeUnit":"ns","traceEvents":[\n', 0, true);
  }

  /** The pid assigned to `source` (assigning the next one if new). */
  pidOf(source: string): number {
    let pid = this.#pids.get(source);
    if (pid === undefined) {
      pid = this.#nextPid++;
      this.#pids.set(source, pid);
    }
    return pid;
  }

  /** {@inheritDoc TraceExporter.write} */
  write(events: readonly TraceEvent[]): boolean {
    if (events.length === 0) return !this.backedUp;
    const parts: string[] = [];
    // Metadata for sources first seen in this batch; committed only if the chunk is written,
    // so a dropped batch does not leave a source unnamed for good.
    let newlyNamed: string[] | undefined;
    for (const e of events) {
      const pid = this.pidOf(e.source);
      if (!this.#named.has(e.source) && !(newlyNamed?.includes(e.source) ?? false)) {
        (newlyNamed ??= []).push(e.source);
        const name = JSON.stringify(e.source);
        parts.push(
          `{"ph":"M","name":"process_name","pid":${pid},"tid":${pid},"args":{"name":${name}}}`,
          `{"ph":"M","name":"process_sort_index","pid":${pid},"tid":${pid},"args":{"sort_index":${pid}}}`,
          `{"ph":"M","name":"thread_name","pid":${pid},"tid":${pid},"args":{"name":${name}}}`,
        );
      }
      if (this.#lastTs === undefined || e.ts > this.#lastTs) this.#lastTs = e.ts;
      const cpu = cpuOf(e);
      if (cpu !== undefined) {
        this.#cpuEvent(e, pid, cpu, parts);
        continue;
      }
      const head = `{"name":${JSON.stringify(e.text ?? e.kind)},"cat":${JSON.stringify(e.kind)}` + `,"ts":${nsToMicrosString(e.ts)},"pid":${pid},"tid":${pid}`;
      const dur = durationOf(e);
      parts.push(dur === undefined ? `${head},"ph":"i","s":"t","args":${argsOf(e)}}` : `${head},"ph":"X","dur":${nsToMicrosString(dur)},"args":${argsOf(e)}}`);
    }
    const chunk = (this.#needComma ? ',\n' : '') + parts.join(',\n');
    if (this.tryWrite(chunk, events.length)) {
      this.#needComma = true;
      if (newlyNamed !== undefined) for (const s of newlyNamed) this.#named.add(s);
    }
    return !this.backedUp;
  }

  /** A kernel event: on its CPU's track (a slice for sched_switch), or a loss counter. */
  #cpuEvent(e: TraceEvent, pid: number, cpu: number, parts: string[]): void {
    const ts = nsToMicrosString(e.ts);
    if (e.kind === FTRACE_STATS_KIND) {
      parts.push(`{"ph":"C","name":"ftrace cpu${cpu}","ts":${ts},"pid":${pid},"tid":${pid},"args":${JSON.stringify(lossCounterArgs(e))}}`);
      return;
    }
    const { tid, isNew } = this.#cpus.tidOf(pid, cpu);
    if (isNew) {
      parts.push(
        `{"ph":"M","name":"thread_name","pid":${pid},"tid":${tid},"args":{"name":"cpu ${cpu}"}}`,
        `{"ph":"M","name":"thread_sort_index","pid":${pid},"tid":${tid},"args":{"sort_index":${cpu}}}`,
      );
    }
    if (e.kind === SCHED_SWITCH_KIND) {
      const head = `"name":${JSON.stringify(runningTask(e))},"cat":${JSON.stringify(e.kind)},"pid":${pid},"tid":${tid}`;
      const ended = this.#cpus.switchTo(tid, { ts: e.ts, head, args: argsOf(e) });
      if (ended !== undefined) parts.push(sliceJson(ended, e.ts));
      return;
    }
    parts.push(
      `{"name":${JSON.stringify(e.text ?? e.kind)},"cat":${JSON.stringify(e.kind)},"ts":${ts},"pid":${pid},"tid":${tid},"ph":"i","s":"t","args":${argsOf(e)}}`,
    );
  }

  protected override trailer(): string {
    // The tasks still running when the trace ends: their slices end at its newest timestamp.
    const open = this.#cpus.takeOpen().map(([, slice]) => sliceJson(slice, this.#lastTs ?? slice.ts));
    const tail = open.length === 0 ? '' : (this.#needComma ? ',\n' : '') + open.join(',\n');
    return tail + '\n]}\n';
  }
}

/** The args object of an event: seq, origTs, errorBoundNs, text, fields (bigints as decimal strings). */
function argsOf(e: TraceEvent): string {
  let args = `{"seq":${e.seq},"origTs":"${e.origTs}","errorBoundNs":"${e.errorBoundNs}"`;
  if (e.text !== undefined) args += `,"text":${JSON.stringify(e.text)}`;
  if (e.fields !== undefined) args += `,"fields":${jsonWithBigints(e.fields)}`;
  return args + '}';
}

/** A running-task slice ended at `end`. */
function sliceJson(s: { ts: bigint; head: string; args: string }, end: bigint): string {
  const dur = end > s.ts ? end - s.ts : 0n;
  return `{${s.head},"ts":${nsToMicrosString(s.ts)},"ph":"X","dur":${nsToMicrosString(dur)},"args":${s.args}}`;
}

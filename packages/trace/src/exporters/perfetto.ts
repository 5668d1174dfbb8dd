/**
 * Chrome / Perfetto trace exporter (Trace Event Format, JSON object form).
 *
 * @packageDocumentation
 */
import type { TraceEvent } from '../schema.js';
import { StreamExporter, jsonWithBigints, type StreamExporterOptions } from './base.js';

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
 *
 * Streamed: the header is written on construction, each batch as one chunk, and the array and
 * object are closed by {@link PerfettoExporter.close}. A file cut short (crash) lacks only the
 * closing `]}`; Perfetto's importer tolerates that.
 */
export class PerfettoExporter extends StreamExporter {
  readonly #pids = new Map<string, number>();
  /** Sources whose metadata has been written. */
  readonly #named = new Set<string>();
  #nextPid = 1;
  #needComma = false;

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
      let args = `{"seq":${e.seq},"origTs":"${e.origTs}","errorBoundNs":"${e.errorBoundNs}"`;
      if (e.text !== undefined) args += `,"text":${JSON.stringify(e.text)}`;
      if (e.fields !== undefined) args += `,"fields":${jsonWithBigints(e.fields)}`;
      args += '}';
      const head = `{"name":${JSON.stringify(e.text ?? e.kind)},"cat":${JSON.stringify(e.kind)}` + `,"ts":${nsToMicrosString(e.ts)},"pid":${pid},"tid":${pid}`;
      const dur = durationOf(e);
      parts.push(dur === undefined ? `${head},"ph":"i","s":"t","args":${args}}` : `${head},"ph":"X","dur":${nsToMicrosString(dur)},"args":${args}}`);
    }
    const chunk = (this.#needComma ? ',\n' : '') + parts.join(',\n');
    if (this.tryWrite(chunk, events.length)) {
      this.#needComma = true;
      if (newlyNamed !== undefined) for (const s of newlyNamed) this.#named.add(s);
    }
    return !this.backedUp;
  }

  protected override trailer(): string {
    return '\n]}\n';
  }
}

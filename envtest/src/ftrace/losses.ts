/**
 * The host's book of ftrace volume and losses, per source and per CPU, for the summary, the
 * status line and the metrics. Two kinds of numbers, kept apart:
 *
 * - measured here: the ftrace events that arrived from each source, by kind and by CPU; and the
 *   host's own reader's counters (its `ftrace:stats` events, or its final stats);
 * - claimed: a guest's `ftrace:stats` events (what its reader says the kernel lost). They are
 *   clamped and shown as the guest's claim, never added to the host's `dropped`
 *   (ARCHITECTURE.md, "A guest is hostile").
 *
 * Everything a guest can grow is bounded: sources, CPUs per source, kinds per source.
 */
import { MAX_GUEST_COUNTER, type TraceEvent } from '@vsock-rpc/trace';
import { escapeText } from '@vsock-rpc/wire';
import { FTRACE_STATS_KIND, FtraceFieldNames } from './convert.js';

/** Most sources kept by name; later ones are added up under {@link OTHER_SOURCES}. */
export const MAX_FTRACE_SOURCES = 256;
/** Most CPUs kept per source (a CPU index at or above it is counted under `other`). */
export const MAX_FTRACE_CPUS = 256;
/** Most kinds counted by name per source. */
export const MAX_FTRACE_KINDS = 64;
/** Where sources beyond {@link MAX_FTRACE_SOURCES} are added up. */
export const OTHER_SOURCES = '(other sources)';
const OTHER_KINDS = '(other kinds)';

/** One CPU's reader counters, as its `ftrace:stats` events report them. */
export interface CpuLoss {
  cpu: number;
  /** Events the reader parsed from this CPU. */
  events: number;
  /** overrun/missed + dropped (see FtraceCpuStats.lost). */
  lost: number;
  overrun: number;
  dropped: number;
  missed: number;
  badPages: number;
  undecodable: number;
}

/** A source's ftrace figures in the summary. */
export interface FtraceSourceSummary {
  /** `measured`: this host's own reader; `claim`: what a guest's reader reports (not verified). */
  losses: 'measured' | 'claim';
  /** ftrace events that arrived here, by kind (host-measured; `ftrace:stats` not included). */
  events: Record<string, number>;
  /** Sum of `events`. */
  total: number;
  /** Sum of the CPUs' `lost` (per `losses`). */
  lost: number;
  /** Pages the reader skipped (per `losses`). */
  badPages: number;
  /** Per CPU: arrived here (`arrived`, measured) and the reader's counters (per `losses`). */
  perCpu: (CpuLoss & { arrived: number })[];
}

interface SourceBook {
  claim: boolean;
  kinds: Map<string, number>;
  arrived: Map<number, number>;
  cpus: Map<number, CpuLoss>;
}

function count(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) ? Math.min(Math.max(0, Math.trunc(v)), MAX_GUEST_COUNTER) : 0;
}

function cpuOf(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v < MAX_FTRACE_CPUS ? v : undefined;
}

/** The book. `hostSource` is the one source whose numbers are measured; every other one's are claims. */
export class FtraceLosses {
  readonly #sources = new Map<string, SourceBook>();
  readonly #hostSource: string;

  constructor(hostSource: string) {
    this.#hostSource = hostSource;
  }

  #book(source: string): SourceBook {
    let b = this.#sources.get(source);
    if (b === undefined) {
      // Full: later sources share one entry (which itself may exceed the bound by one).
      if (this.#sources.size >= MAX_FTRACE_SOURCES && source !== OTHER_SOURCES) return this.#book(OTHER_SOURCES);
      b = { claim: source !== this.#hostSource, kinds: new Map(), arrived: new Map(), cpus: new Map() };
      this.#sources.set(source, b);
    }
    return b;
  }

  /** Take note of released events: ftrace events are counted, `ftrace:stats` recorded. */
  observe(events: readonly TraceEvent[]): void {
    for (const e of events) {
      const f = e.fields;
      if (f === undefined || !(FtraceFieldNames.cpu in f)) continue;
      const b = this.#book(e.source);
      const cpu = cpuOf(f[FtraceFieldNames.cpu]);
      if (e.kind === FTRACE_STATS_KIND) {
        if (cpu === undefined) continue;
        b.cpus.set(cpu, {
          cpu,
          events: count(f['events']),
          lost: count(f['lost']),
          overrun: count(f['overrun']),
          dropped: count(f['dropped']),
          missed: count(f['missed']),
          badPages: count(f['badPages']),
          undecodable: count(f['undecodable']),
        });
        continue;
      }
      const kind = b.kinds.has(e.kind) || b.kinds.size < MAX_FTRACE_KINDS ? e.kind : OTHER_KINDS;
      b.kinds.set(kind, (b.kinds.get(kind) ?? 0) + 1);
      const c = cpu ?? MAX_FTRACE_CPUS;
      b.arrived.set(c, (b.arrived.get(c) ?? 0) + 1);
    }
  }

  /** Whether any ftrace event or counter was seen. */
  get empty(): boolean {
    return this.#sources.size === 0;
  }

  /** Per source, for the summary. */
  summary(): Record<string, FtraceSourceSummary> {
    const out: Record<string, FtraceSourceSummary> = {};
    for (const [source, b] of this.#sources) {
      const cpus = new Set([...b.cpus.keys(), ...b.arrived.keys()]);
      const perCpu = [...cpus]
        .sort((x, y) => x - y)
        .map((cpu) => ({
          ...(b.cpus.get(cpu) ?? { cpu, events: 0, lost: 0, overrun: 0, dropped: 0, missed: 0, badPages: 0, undecodable: 0 }),
          arrived: b.arrived.get(cpu) ?? 0,
        }));
      let total = 0;
      for (const n of b.kinds.values()) total += n;
      let lost = 0;
      let badPages = 0;
      for (const c of b.cpus.values()) {
        lost += c.lost;
        badPages += c.badPages;
      }
      out[source] = { losses: b.claim ? 'claim' : 'measured', events: Object.fromEntries(b.kinds), total, lost, badPages, perCpu };
    }
    return out;
  }

  /** Status-line part: `ftrace lost host 0 · g1 3 (claim)`, or '' when nothing was traced. */
  statusPart(): string {
    if (this.#sources.size === 0) return '';
    const parts: string[] = [];
    for (const [source, b] of this.#sources) {
      if (b.cpus.size === 0) continue;
      let lost = 0;
      for (const c of b.cpus.values()) lost += c.lost;
      parts.push(`${escapeText(source, 64)} ${lost}${b.claim ? ' (claim)' : ''}`);
    }
    return parts.length > 0 ? `ftrace lost ${parts.join(' · ')}` : '';
  }

  /** Rows for the metrics: one per source and CPU (`cpu` as a label value, bounded). */
  rows(): { source: string; claim: boolean; cpu: string; arrived: number; loss: CpuLoss | undefined }[] {
    const rows = [];
    for (const [source, b] of this.#sources) {
      const cpus = new Set([...b.cpus.keys(), ...b.arrived.keys()]);
      for (const cpu of cpus) {
        rows.push({ source, claim: b.claim, cpu: cpu >= MAX_FTRACE_CPUS ? 'other' : String(cpu), arrived: b.arrived.get(cpu) ?? 0, loss: b.cpus.get(cpu) });
      }
    }
    return rows;
  }
}

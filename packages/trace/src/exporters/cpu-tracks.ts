/**
 * Per-CPU tracks of kernel events for the Perfetto exporter: every source has a track per CPU
 * (a thread of the source's process, named `cpu N`), `sched:sched_switch` becomes a slice of
 * the task it switches to (`next_comm`, `next_pid`) lasting until the next switch on that CPU,
 * other events on a CPU are instants on its track, and `ftrace:stats` loss reports become
 * counters.
 *
 * @packageDocumentation
 */
import type { TraceEvent } from '../schema.js';

/** The field that places an event on a CPU track (the ftrace hook's name for the event header's CPU). */
export const CPU_FIELD = 'common_cpu';
/** The kind whose events become running-task slices. */
export const SCHED_SWITCH_KIND = 'sched:sched_switch';
/** The kind of a reader's per-CPU loss report (fields: events, lost, overrun, dropped, missed, badPages). */
export const FTRACE_STATS_KIND = 'ftrace:stats';
/** CPUs per source that get a track of their own; an event of a higher CPU stays on the source's main track. */
export const MAX_CPU_TRACKS = 1024;
/** First tid of the CPU tracks: far above the pids given to sources (1, 2, …), so they never meet. */
const FIRST_CPU_TID = 1_000_000;

/** The CPU of an ftrace event, or undefined for any other event (or a CPU beyond MAX_CPU_TRACKS). */
export function cpuOf(e: TraceEvent): number | undefined {
  const c = e.fields?.[CPU_FIELD];
  return typeof c === 'number' && Number.isInteger(c) && c >= 0 && c < MAX_CPU_TRACKS ? c : undefined;
}

/** A slice still running: written once the next switch on its CPU (or the end of the trace) ends it. */
export interface OpenSlice {
  /** Start, ns (host time). */
  readonly ts: bigint;
  /** `"name":…,"cat":…,"pid":…,"tid":…` of the slice, preformatted. */
  readonly head: string;
  /** Its args object, preformatted. */
  readonly args: string;
}

/** The CPU tracks of every source: their tids, and the slice running on each. */
export class CpuTracks {
  readonly #tids = new Map<string, number>();
  readonly #open = new Map<number, OpenSlice>();
  #nextTid = FIRST_CPU_TID;

  /** The tid of (`pid`, `cpu`), and whether it is new (its metadata is due). */
  tidOf(pid: number, cpu: number): { tid: number; isNew: boolean } {
    const key = `${pid}:${cpu}`;
    let tid = this.#tids.get(key);
    if (tid !== undefined) return { tid, isNew: false };
    tid = this.#nextTid++;
    this.#tids.set(key, tid);
    return { tid, isNew: true };
  }

  /** Start a slice on `tid`; returns the slice it ends (if one was running). */
  switchTo(tid: number, slice: OpenSlice): OpenSlice | undefined {
    const prev = this.#open.get(tid);
    this.#open.set(tid, slice);
    return prev;
  }

  /** Every running slice, removed (at the end of the trace). */
  takeOpen(): [number, OpenSlice][] {
    const all = [...this.#open];
    this.#open.clear();
    return all;
  }
}

/** The slice name of a sched_switch: the task switched to. */
export function runningTask(e: TraceEvent): string {
  const comm = e.fields?.['next_comm'];
  return typeof comm === 'string' ? comm : String(e.fields?.['next_pid'] ?? e.kind);
}

/** Counter args of an `ftrace:stats` event: what the reader lost on that CPU (cumulative). */
export function lossCounterArgs(e: TraceEvent): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of ['lost', 'badPages']) {
    const v = e.fields?.[k];
    if (typeof v === 'number' && Number.isFinite(v)) out[k] = v;
  }
  return out;
}

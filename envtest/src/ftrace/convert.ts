/**
 * FtraceEvent → trace event: the kind (`system:name`), the text (a marker's line) and the fields
 * (the CPU, pid and comm of the event's header plus the event's own fields), within the trace
 * schema's bounds (MAX_FIELDS, MAX_FIELD_NAME_LENGTH, MAX_TEXT_LENGTH; arrays become strings,
 * since a field value is a string, number, boolean or bigint).
 */
import {
  CPU_FIELD,
  FTRACE_STATS_KIND,
  MAX_FIELD_NAME_LENGTH,
  MAX_FIELDS,
  MAX_TEXT_LENGTH,
  type FtraceEvent,
  type FtraceStats,
  type TraceFields,
} from '@vsock-rpc/trace';

export { FTRACE_STATS_KIND };

/**
 * Names of the header fields. The kernel's own names (`common_pid`…): event fields can be
 * called `pid`, `comm` or `cpu` themselves (sched_waking has `pid` and `comm`; the woken task),
 * and a format file never names an event field `common_*`.
 */
export const FtraceFieldNames = {
  cpu: CPU_FIELD,
  pid: 'common_pid',
  comm: 'common_comm',
  /** How many of the event's fields did not fit in MAX_FIELDS (present only when some did not). */
  omitted: 'fields_omitted',
} as const;

/** Kind of trace_marker lines. */
export const FTRACE_MARKER_KIND = 'ftrace:print';

/** One event ready for a hook batch. */
export interface HookEvent {
  ts: bigint;
  kind: string;
  text: string | undefined;
  fields: TraceFields | undefined;
}

const HEADER_FIELDS = 3;

/** A field value within the schema: arrays as `[1,2,3]` text, strings cut at MAX_TEXT_LENGTH. */
function fieldValue(v: number | bigint | string | number[]): number | bigint | string {
  if (typeof v === 'string') return v.length > MAX_TEXT_LENGTH ? v.slice(0, MAX_TEXT_LENGTH) : v;
  if (Array.isArray(v)) {
    const s = `[${v.join(',')}]`;
    return s.length > MAX_TEXT_LENGTH ? s.slice(0, MAX_TEXT_LENGTH - 4) + '...]' : s;
  }
  return v;
}

/**
 * Converts one parsed ring-buffer event; `skewNs` is added to its CLOCK_MONOTONIC timestamp,
 * exactly as the random hook adds it to `process.hrtime.bigint()` (which is CLOCK_MONOTONIC too),
 * so both kinds of event share one clock.
 */
export function fromFtraceEvent(e: FtraceEvent, skewNs: bigint): HookEvent {
  const kind = `${e.system}:${e.name}`;
  const marker = kind === FTRACE_MARKER_KIND;
  const fields: TraceFields = { [FtraceFieldNames.cpu]: e.cpu, [FtraceFieldNames.pid]: e.pid, [FtraceFieldNames.comm]: fieldValue(e.comm) };
  let n = HEADER_FIELDS;
  let omitted = 0;
  let text: string | undefined;
  for (const name in e.fields) {
    const v = e.fields[name]!;
    // A marker's line is its text, not a field as well.
    if (marker && name === 'buf' && typeof v === 'string') {
      text = v.length > MAX_TEXT_LENGTH ? v.slice(0, MAX_TEXT_LENGTH) : v;
      continue;
    }
    // The last slot is kept for the count of what did not fit.
    if (n >= MAX_FIELDS - 1 || name.length > MAX_FIELD_NAME_LENGTH) {
      omitted++;
      continue;
    }
    fields[name] = fieldValue(v);
    n++;
  }
  if (omitted > 0) fields[FtraceFieldNames.omitted] = omitted;
  return { ts: e.ts + skewNs, kind: kind.length > 256 ? kind.slice(0, 256) : kind, text, fields };
}

/** The counters of one CPU as they were last reported: to report only what moved. */
export type CpuCounters = readonly [events: number, lost: number, overrun: number, dropped: number, missed: number, badPages: number, undecodable: number];

/**
 * `ftrace:stats` events at `ts`, one per CPU whose counters differ from `last` (all of them when
 * `all`). `last` is updated. Fields: common_cpu, events, lost, overrun, dropped, missed,
 * badPages, undecodable (cumulative since the source opened).
 */
export function statsEvents(stats: FtraceStats, ts: bigint, last: Map<number, CpuCounters>, all = false): HookEvent[] {
  const out: HookEvent[] = [];
  for (const c of stats.perCpu) {
    const now: CpuCounters = [c.events, c.lost, c.overrun, c.dropped, c.missed, c.badPages, c.undecodable];
    const prev = last.get(c.cpu);
    if (!all && prev !== undefined && prev.every((v, i) => v === now[i])) continue;
    last.set(c.cpu, now);
    out.push({
      ts,
      kind: FTRACE_STATS_KIND,
      text: undefined,
      fields: {
        [FtraceFieldNames.cpu]: c.cpu,
        events: c.events,
        lost: c.lost,
        overrun: c.overrun,
        dropped: c.dropped,
        missed: c.missed,
        badPages: c.badPages,
        undecodable: c.undecodable,
      },
    });
  }
  return out;
}

/**
 * `stats` without the events read before the trace started (per CPU, `skipped`): what the
 * reader delivered. Losses are kept as they are (the kernel's counters since the source opened).
 */
export function afterStart(stats: FtraceStats, skipped: ReadonlyMap<number, number>): FtraceStats {
  if (skipped.size === 0) return stats;
  const perCpu = stats.perCpu.map((c) => ({ ...c, events: Math.max(0, c.events - (skipped.get(c.cpu) ?? 0)) }));
  return { ...stats, events: perCpu.reduce((n, c) => n + c.events, 0), perCpu };
}

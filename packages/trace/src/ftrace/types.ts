/**
 * The public shapes of the ftrace source: its options, the events it delivers, its loss counters.
 * @packageDocumentation
 */

/** One event spec: `system:name`, `system:*`, optionally followed by `[FILTER]` (a tracefs filter expression). */
export interface FtraceEventSpec {
  /** Event system (a directory under `events/`), e.g. `sched`. */
  system: string;
  /** Event name, or `'*'` for every event of the system. */
  name: string;
  /** A tracefs filter expression (written to the event's, or the system's, `filter` file). */
  filter?: string;
}

/** Options of {@link FtraceSource.open}. */
export interface FtraceSourceOptions {
  /** The events to enable: specs, or CLI text (see {@link parseFtraceEventSpecs}). */
  events: readonly FtraceEventSpec[] | readonly string[];
  /** Per-CPU ring buffer size (buffer_size_kb). Default 4096. */
  bufferKb?: number;
  /** Instance name under instances/. Default `vsock-rpc-<pid>`. Left-behind `vsock-rpc-<pid>` instances whose pid is dead are removed on open. */
  instance?: string;
  /** tracefs mount point. Default: found in /proc/mounts, else /sys/kernel/tracing (mounted if missing). */
  tracefs?: string;
  /** Also deliver lines written to the instance's trace_marker (ftrace:print). Default true. */
  markers?: boolean;
  /**
   * At most this many pages (each one ring-buffer page, 4 KiB on x86_64) are read per CPU in one
   * {@link FtraceSource.poll}, so one poll stays short under a flood; the rest stays in the kernel
   * buffer for the next poll. Default 256.
   */
  maxPagesPerPoll?: number;
  /**
   * Where the reader reports, once per kind, a page it skipped or an event it could not decode
   * (the text is escaped). Default: `process.emitWarning`.
   */
  onWarning?: (message: string) => void;
}

/** A decoded field value: ints as number (bigint beyond 2^53), strings, other arrays as number[]. */
export type FtraceFieldValue = number | bigint | string | number[];

/** One parsed ring-buffer event. */
export interface FtraceEvent {
  /** CLOCK_MONOTONIC ns (the instance runs with trace_clock=mono). */
  ts: bigint;
  /** The CPU whose buffer held the event. */
  cpu: number;
  /** `common_pid`. */
  pid: number;
  /** Resolved from saved_cmdlines (`'<idle>'` for pid 0, `'<...>'` when unknown, as trace-cmd prints). */
  comm: string;
  /** e.g. `'sched'`; markers: `'ftrace'`. */
  system: string;
  /** e.g. `'sched_switch'`; markers: `'print'`. */
  name: string;
  /**
   * Event fields from the format file (common_* omitted): ints as number (bigint when beyond
   * 2^53), char arrays/__data_loc strings as string, other arrays as number[] (8-byte elements
   * beyond 2^53 lose precision). A marker's `buf` is its text without the trailing newline the
   * kernel adds.
   */
  fields: Record<string, FtraceFieldValue>;
}

/** Loss and volume counters of one CPU. */
export interface FtraceCpuStats {
  cpu: number;
  /** Events read and parsed from this CPU. */
  events: number;
  /** Kernel ring-buffer overruns (per_cpu/cpuN/stats `overrun`), since open. */
  overrun: number;
  /** `commit overrun` + `dropped events` from the same stats file, since open. */
  dropped: number;
  /** Events the kernel flagged as missed on pages (RB_MISSED_EVENTS / the stored count). */
  missed: number;
  /** Pages skipped as truncated/corrupt. */
  badPages: number;
  /** Pages flagged RB_MISSED_EVENTS without a stored count (each counted as 1 in `missed`). */
  missedUncounted: number;
  /** Events whose id has no known format (or whose data is shorter than its format): skipped. */
  undecodable: number;
  /**
   * What this CPU lost: `max(overrun, missed) + dropped`. In overwrite mode the events the kernel
   * overwrote are both counted in `overrun` and reported on the next page read as missed events,
   * so the two are the same loss seen twice, not added.
   */
  lost: number;
}

/** Totals over every CPU, and the per-CPU counters. */
export interface FtraceStats {
  /** Events parsed and delivered. */
  events: number;
  /** Sum of the CPUs' `lost` (overrun/missed + dropped). */
  lost: number;
  /** Pages skipped as truncated/corrupt. */
  badPages: number;
  /** Events skipped because they could not be decoded. */
  undecodable: number;
  perCpu: FtraceCpuStats[];
}

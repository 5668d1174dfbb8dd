/**
 * The --summary JSON: what a run did, in one file a script or a test can check.
 */
import { writeFile } from 'node:fs/promises';
import type { TimelineStats, TraceClockReport } from '@vsock-rpc/trace';
import { escapeText } from '@vsock-rpc/wire';
import type { FtraceSourceSummary } from './ftrace/losses.js';

/** A clock estimate in the summary: bigints as decimal strings (JSON has no int64). */
export interface SummaryClock {
  offsetNs: string;
  errorBoundNs: string;
  driftPpm: number;
}

/** The summary of a server or client run. */
export interface Summary {
  role: 'server' | 'client';
  /**
   * Events by source: received by the server's merge (host-measured), or, for a client, the
   * events the server acknowledged.
   */
  events: { bySource: Record<string, number>; total: number };
  /** Events dropped where this process could measure it (sum of `droppedBy`); never a guest's claim. */
  dropped: number;
  /** Drops by where they happened. */
  droppedBy: Record<string, number>;
  /**
   * Client: events sent but never acknowledged when it gave up waiting (they may or may not
   * have arrived). A client's `events.total + dropped + unconfirmed` is every event it generated.
   */
  unconfirmed?: number;
  /**
   * Server: what each guest's agent REPORTS about itself (clamped), labelled as its claim and
   * kept out of `dropped`, which is what this host measured.
   */
  guestClaims?: Record<string, GuestClaim>;
  /** Late events (server: arrived below the released timeline; client: always 0). */
  late: number;
  /** Clock estimate per guest (server: as each agent reported it; client: its own). */
  clock: Record<string, SummaryClock>;
  /** Total events / durationS. */
  eventsPerSecond: number;
  /** Wall time of the run, s. */
  durationS: number;
  /**
   * With ftrace events (--ftrace): per source, the events that arrived by kind and CPU, and the
   * kernel's losses per CPU: `losses: 'measured'` for this process's own reader, `'claim'` for
   * what a guest's reader reports (never added to `dropped`).
   */
  ftrace?: Record<string, FtraceSourceSummary>;
  /** Anything else worth knowing (exported count, seq gaps, clamped events, …). */
  details: Record<string, unknown>;
}

/** A guest's own counters, as it reports them (clamped by the host): a claim, not a measurement. */
export interface GuestClaim {
  emitted: number;
  sent: number;
  dropped: number;
  clamped: number;
}

/** Host-measured anomalies of the guests' sequence numbers and timestamps, all sources. */
export interface HostMeasured {
  /** Missing events by seq (plausible gaps). */
  seqGaps: number;
  /** Implausible seq jumps (a forged seq counts once). */
  seqJumps: number;
  /** Events received twice (resent after a reconnect), merged once. */
  duplicates: number;
  /** Events rejected for a timestamp too far in the future. */
  future: number;
  /** Events dropped because their source overran its share of the merge buffer. */
  overflow: number;
}

/**
 * The server summary's parts that come from the timeline: events by source, host-measured
 * drops and anomalies, and the guests' claims kept apart (see issue 11: a guest must not be able
 * to write the host's numbers).
 */
export function timelineSummary(t: TimelineStats): {
  bySource: Record<string, number>;
  droppedBy: { timeline: number; overflow: number; future: number };
  measured: HostMeasured;
  guestClaims: Record<string, GuestClaim>;
  clock: Record<string, SummaryClock>;
  lateBySource: Record<string, number>;
} {
  const bySource: Record<string, number> = {};
  const guestClaims: Record<string, GuestClaim> = {};
  const clock: Record<string, SummaryClock> = {};
  const lateBySource: Record<string, number> = {};
  for (const [source, st] of Object.entries(t.bySource)) {
    bySource[source] = st.events;
    lateBySource[source] = st.late;
    const a = st.agent;
    if (a) {
      guestClaims[source] = { emitted: a.emitted, sent: a.sent, dropped: a.dropped, clamped: a.clamped };
      if (a.clock) clock[source] = summaryClock(a.clock);
    }
  }
  if (t.otherSources.sources > 0) bySource['(other departed sources)'] = t.otherSources.events;
  return {
    bySource,
    droppedBy: { timeline: t.dropped, overflow: t.overflow, future: t.future },
    measured: { seqGaps: t.seqGaps, seqJumps: t.seqJumps, duplicates: t.duplicates, future: t.future, overflow: t.overflow },
    guestClaims,
    clock,
    lateBySource,
  };
}

/** One log line per guest that claims drops: labelled as its claim, its name escaped. */
export function guestClaimLines(claims: Record<string, GuestClaim>): string[] {
  return Object.entries(claims)
    .filter(([, c]) => c.dropped > 0)
    .map(([source, c]) => `envtest server: guest ${escapeText(source)} reports dropped ${c.dropped} (its claim, not measured here)`);
}

/** A clock report in summary form. */
export function summaryClock(c: TraceClockReport): SummaryClock {
  return { offsetNs: c.offsetNs.toString(), errorBoundNs: c.errorBoundNs.toString(), driftPpm: Math.round(c.driftPpm * 1000) / 1000 };
}

/** Sum of the values of a record. */
export function sum(r: Record<string, number>): number {
  let n = 0;
  for (const v of Object.values(r)) n += v;
  return n;
}

/** Write `summary` as pretty JSON (bigints anywhere become decimal strings). */
export async function writeSummary(path: string, summary: Summary): Promise<void> {
  const text = JSON.stringify(summary, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2);
  await writeFile(path, text + '\n');
}

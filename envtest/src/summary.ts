/**
 * The --summary JSON: what a run did, in one file a script or a test can check.
 */
import { writeFile } from 'node:fs/promises';
import type { TraceClockReport } from '@vsock-rpc/trace';

/** A clock estimate in the summary: bigints as decimal strings (JSON has no int64). */
export interface SummaryClock {
  offsetNs: string;
  errorBoundNs: string;
  driftPpm: number;
}

/** The summary of a server or client run. */
export interface Summary {
  role: 'server' | 'client';
  /** Events by source: received by the server's merge, or sent by a client. */
  events: { bySource: Record<string, number>; total: number };
  /** Events dropped anywhere we can see (sum of `droppedBy`). */
  dropped: number;
  /** Drops by where they happened. */
  droppedBy: Record<string, number>;
  /** Late events (server: arrived below the released timeline; client: always 0). */
  late: number;
  /** Clock estimate per guest (server: as each agent reported it; client: its own). */
  clock: Record<string, SummaryClock>;
  /** Total events / durationS. */
  eventsPerSecond: number;
  /** Wall time of the run, s. */
  durationS: number;
  /** Anything else worth knowing (exported count, seq gaps, clamped events, …). */
  details: Record<string, unknown>;
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

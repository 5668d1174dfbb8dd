import type { TraceEvent } from '../src/index.js';

/** A minimal event for tests. */
export function ev(source: string, seq: number, ts: bigint | number, extra: Partial<TraceEvent> = {}): TraceEvent {
  const t = BigInt(ts);
  return { source, seq, ts: t, origTs: t, errorBoundNs: 0n, kind: 'message', ...extra };
}

/** Timestamps of events, as numbers (test values are small). */
export function tss(events: readonly TraceEvent[]): number[] {
  return events.map((e) => Number(e.ts));
}

/** Shared shapes of the adversarial suite. */
import type { ServerProcess } from './server.js';

/** What an attack module gets: the live server and the run's scale. */
export interface AttackEnv {
  server: ServerProcess;
  port: number;
  /** Full counts (npm run test:adversarial) or the short run's (npm test). */
  full: boolean;
  /** The server's announced maxFrame (from its HELLO). */
  maxFrame: number;
  /** Scratch directory for this run. */
  dir: string;
  log: (line: string) => void;
  /** The server's handshake and idle deadlines (ms): the CLI's defaults or the short run's flags. */
  deadlines: { handshakeMs: number; idleMs: number };
}

/** What an attack reports about itself; the harness adds the common criteria. */
export interface AttackOutcome {
  /** What was sent, in a few words with counts. */
  sent: string;
  /** How the server closed the bad peers, e.g. "PROTOCOL_ERROR×12, open×3". */
  closeCodes: string;
  /** Attack-specific pass criteria that failed (wrong code, connection not closed, …). */
  failures: string[];
  /** Measurements worth reporting that are not pass criteria. */
  notes?: string[];
}

export type Attack = (env: AttackEnv) => Promise<AttackOutcome>;

/** One row of the report. */
export interface ResultRow {
  id: number;
  attack: string;
  sent: string;
  peakRssMiB: number;
  growthMiB: number;
  obsSent: number;
  obsReceived: number;
  obsLate: number;
  connectMs: number;
  closeCodes: string;
  pass: boolean;
  failures: string[];
  notes: string[];
  seconds: number;
}

/** Tallies outcomes into "A×3, B×1". */
export function tally(items: Iterable<string>): string {
  const m = new Map<string, number>();
  for (const i of items) m.set(i, (m.get(i) ?? 0) + 1);
  return (
    [...m]
      .sort((a, b) => b[1] - a[1])
      .map(([k, v]) => `${k}×${v}`)
      .join(', ') || '-'
  );
}

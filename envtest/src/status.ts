/**
 * The status line printed every second: events/s per source, late, dropped, and each guest's
 * clock offset and error bound.
 */
import type { TimelineStats } from '@vsock-rpc/trace';
import { escapeText } from '@vsock-rpc/wire';

/** Formats ns as a short human duration with sign: +1.500000 s, -23.4 µs. */
export function formatNs(ns: bigint, signed = false): string {
  const neg = ns < 0n;
  const a = Number(neg ? -ns : ns);
  const sign = neg ? '-' : signed ? '+' : '';
  if (a >= 1e9) return `${sign}${(a / 1e9).toFixed(6)} s`;
  if (a >= 1e6) return `${sign}${(a / 1e6).toFixed(3)} ms`;
  if (a >= 1e3) return `${sign}${(a / 1e3).toFixed(1)} µs`;
  return `${sign}${a} ns`;
}

/** Builds status lines from successive timeline snapshots (rates are per interval). */
export class StatusLine {
  // A Map rebuilt per line: guest-chosen names ('__proto__') are plain keys, and departed
  // sources do not accumulate here.
  #prev = new Map<string, number>();
  #prevAt = performance.now();

  /** One line for `stats`; `dropped` is every drop outside the timeline; `ftrace` the ftrace losses part (losses.ts), if any. */
  format(stats: TimelineStats, dropped: number, color = false, ftrace = ''): string {
    const t = performance.now();
    const dt = Math.max(1e-3, (t - this.#prevAt) / 1000);
    this.#prevAt = t;
    const parts: string[] = [];
    const next = new Map<string, number>();
    const clocks: string[] = [];
    for (const [source, st] of Object.entries(stats.bySource)) {
      const rate = (st.events - (this.#prev.get(source) ?? 0)) / dt;
      next.set(source, st.events);
      // Source names are chosen by guests: escaped before they reach the terminal.
      const name = escapeText(source, 64);
      parts.push(`${name} ${rate.toFixed(0)}/s${st.active ? '' : ' (gone)'}`);
      const c = st.agent?.clock;
      if (c) clocks.push(`${name} offset ${formatNs(c.offsetNs, true)} ±${formatNs(c.errorBoundNs)}`);
    }
    this.#prev = next;
    const late = stats.late;
    // Host-measured drops only; what guests claim is shown apart, labelled as theirs.
    const drops = dropped + stats.dropped + stats.overflow + stats.future;
    let line = `── ${parts.join(' · ') || 'no sources yet'} │ late ${late} dropped ${drops} buffered ${stats.buffered}`;
    if (stats.agentDropped > 0) line += ` │ guests report dropped ${stats.agentDropped}`;
    if (ftrace !== '') line += ` │ ${ftrace}`;
    if (clocks.length) line += ` │ ${clocks.join(' · ')}`;
    return color ? `\x1b[2m${line}\x1b[0m` : line;
  }
}

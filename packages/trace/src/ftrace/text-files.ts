/**
 * The small tracefs text files the source reads: `saved_cmdlines` (pid → comm) and
 * `per_cpu/cpuN/stats` (the kernel's own loss counters).
 * @packageDocumentation
 */

/** Most saved_cmdlines entries kept (the kernel's own table is bounded by saved_cmdlines_size). */
export const MAX_CMDLINES = 65536;

/** Parses `saved_cmdlines` (`<pid> <comm>` per line) into a map. */
export function parseSavedCmdlines(text: string, into = new Map<number, string>()): Map<number, string> {
  for (const line of text.split('\n')) {
    const sp = line.indexOf(' ');
    if (sp <= 0) continue;
    const pid = Number(line.slice(0, sp));
    if (!Number.isInteger(pid) || pid < 0) continue;
    if (into.size >= MAX_CMDLINES && !into.has(pid)) break;
    into.set(pid, line.slice(sp + 1));
  }
  return into;
}

/** The counters of `per_cpu/cpuN/stats` that say what the kernel lost. */
export interface FtraceCpuStatsFile {
  entries: number;
  overrun: number;
  commitOverrun: number;
  dropped: number;
  read: number;
}

/** Parses `per_cpu/cpuN/stats`; a counter the file lacks reads 0. */
export function parseCpuStatsFile(text: string): FtraceCpuStatsFile {
  const get = (key: string): number => {
    const m = new RegExp(`^${key}:\\s*(\\d+)\\s*$`, 'm').exec(text);
    return m ? Number(m[1]) : 0;
  };
  return {
    entries: get('entries'),
    overrun: get('overrun'),
    commitOverrun: get('commit overrun'),
    dropped: get('dropped events'),
    read: get('read events'),
  };
}

/**
 * pid → comm for the events, as trace-cmd prints them: from tracefs `saved_cmdlines` (the kernel
 * records a task's comm at its sched switches), re-read when an unknown pid shows up (at most
 * once per poll) and every second (pids are reused, comms change at exec); for a pid still
 * unknown, /proc/<pid>/comm while the task lives; else `<...>` (`<idle>` for pid 0).
 * @packageDocumentation
 */
import { readFileSync } from 'node:fs';
import { MAX_CMDLINES, parseSavedCmdlines } from './text-files.js';

const REFRESH_MS = 1000;

/** The comm lookup of one source. */
export class CommCache {
  private map = new Map<number, string>();
  private refreshedAt = -Infinity;
  private refreshedThisPoll = false;

  constructor(private readonly savedCmdlines: string) {}

  /** Call at the start of each poll: allows one re-read for unknown pids, and the periodic one. */
  beginPoll(): void {
    this.refreshedThisPoll = false;
    if (performance.now() - this.refreshedAt >= REFRESH_MS) this.refresh();
  }

  private refresh(): void {
    this.refreshedThisPoll = true;
    this.refreshedAt = performance.now();
    try {
      const fresh = parseSavedCmdlines(readFileSync(this.savedCmdlines, 'utf8'));
      // Keep what /proc told us for pids the kernel's table does not (or no longer) have.
      if (fresh.size < MAX_CMDLINES)
        for (const [pid, comm] of this.map) if (!fresh.has(pid) && comm !== '<...>' && fresh.size < MAX_CMDLINES) fresh.set(pid, comm);
      this.map = fresh;
    } catch {
      // saved_cmdlines unreadable: keep the old table
    }
  }

  /** The comm of `pid` (never throws). */
  readonly lookup = (pid: number): string => {
    const known = this.map.get(pid);
    if (known !== undefined) return known;
    if (pid === 0) return '<idle>';
    if (!this.refreshedThisPoll) {
      this.refresh();
      const again = this.map.get(pid);
      if (again !== undefined) return again;
    }
    let comm = '<...>';
    try {
      comm = readFileSync(`/proc/${pid}/comm`, 'utf8').replace(/\n$/, '');
    } catch {
      // the task is gone
    }
    if (this.map.size >= MAX_CMDLINES) this.map.clear();
    this.map.set(pid, comm);
    return comm;
  };
}

/**
 * The command of one session at the agent, behind one interface whether it runs on pipes
 * (child-pipes.ts) or on a pseudo-terminal (child-pty.ts). Either way the child leads a process
 * group of its own (pgid = pid), so that a signal, a timeout or the end of the session reaches
 * everything it started, and the output is read only as fast as the host takes it.
 */
import type { WindowSize } from './registry.js';

/** How a child ended: its code, or the signal that killed it. */
export interface ChildExit {
  readonly code?: number;
  readonly signal?: NodeJS.Signals;
}

/** Where a child's output goes: `write` resolves when the host's credit admits the chunk. */
export type OutputSink = (stream: 'stdout' | 'stderr', data: Buffer) => Promise<void>;

/** A running command of a session. */
export interface SessionChild {
  /** Its pid, which is also its process group id. */
  readonly pid: number;
  /**
   * Writes stdin bytes, resolving when the child's side has room again (backpressure). Returns
   * false when the child has closed its stdin: the bytes were dropped (the caller counts them).
   */
  writeStdin(data: Uint8Array): Promise<boolean>;
  /** Closes the child's stdin (the host's EOF). For a pty: sends the terminal's EOF character. */
  endStdin(): void;
  /** Resizes the pseudo-terminal; false for a child without one. */
  resize(size: WindowSize): boolean;
  /** Sends `signal` to the whole process group; false when no process of it is left. */
  signalGroup(signal: NodeJS.Signals): boolean;
  /**
   * Pumps the output into `sink` until the child has exited and its output is drained, then
   * resolves with how it ended. Call once.
   */
  run(sink: OutputSink): Promise<ChildExit>;
}

/** Sends `signal` to process group `pgid`; false when the group is gone (ESRCH). */
export function killGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw err;
  }
}

/**
 * From a session's {@link ExitStatus} to the host's exit code, the way a shell reports a child:
 * the code itself, or 128 + N for a death by signal N. Signal names travel on the wire, not
 * numbers, and are mapped with this machine's `os.constants.signals` (both ends are Linux).
 */
import { constants } from 'node:os';
import type { ExitStatus } from './registry.js';

/** Exit code of `vsexec run` when the agent killed the command for its `--timeout` (as `timeout(1)`). */
export const EXIT_TIMED_OUT = 124;
/** Exit code when the command could not be started remotely (as a shell's "command not found"). */
export const EXIT_NOT_STARTED = 127;
/** Exit code of `vsexec run` for its own failures: unreachable agent, refusal, broken session (as ssh). */
export const EXIT_VSEXEC_FAILED = 255;

const signals = constants.signals as Readonly<Record<string, number>>;

/** The number of signal `name` (`SIGINT` → 2), or undefined for a name this system lacks. */
export function signalNumber(name: string): number | undefined {
  return Object.hasOwn(signals, name) ? signals[name] : undefined;
}

/** The name of signal `n` (9 → `SIGKILL`), or undefined. */
export function signalName(n: number): NodeJS.Signals | undefined {
  for (const [name, num] of Object.entries(signals)) if (num === n) return name as NodeJS.Signals;
  return undefined;
}

/** Whether `name` is a signal this system knows (`SIGINT`, not `INT` or `2`). */
export function isSignalName(name: string): name is NodeJS.Signals {
  return signalNumber(name) !== undefined;
}

/**
 * The exit code the host reports for `status`: `timedOut` → 124; a signal → 128 + its number;
 * otherwise the code. A status with neither (never seen from a well-behaved agent) is 255.
 */
export function exitCodeOf(status: ExitStatus): number {
  if (status.timedOut) return EXIT_TIMED_OUT;
  if (status.signal !== undefined) {
    const n = signalNumber(status.signal);
    return n === undefined ? EXIT_VSEXEC_FAILED : 128 + n;
  }
  return status.code ?? EXIT_VSEXEC_FAILED;
}

/** One line for logs: `exit 3`, `signal SIGKILL (timed out)`, `not started: …`. */
export function describeStatus(status: ExitStatus): string {
  const parts: string[] = [];
  if (status.error !== undefined) parts.push(`not started: ${status.error}`);
  else if (status.signal !== undefined) parts.push(`signal ${status.signal}`);
  else parts.push(`exit ${status.code ?? '?'}`);
  if (status.timedOut) parts.push('(timed out)');
  if (status.stdinDiscarded > 0) parts.push(`(${status.stdinDiscarded} stdin bytes discarded after the child closed its stdin)`);
  return parts.join(' ');
}

/**
 * The agent's log lines: one when a session starts (who, what), one when it ends (how, how much).
 * Everything that came from a peer (its HELLO name, argv, cwd, error text) goes through
 * `escapeText`, so a hostile host cannot write terminal escapes or fake lines into the log.
 */
import { formatAddress, type PeerContext } from '@vsock-rpc/engine';
import { escapeText } from '@vsock-rpc/wire';
import { describeStatus } from './exit-status.js';
import type { ExitStatus, OpenRequest } from './registry.js';

/** Where the agent writes its lines (one line each, no newline). */
export type AgentLog = (line: string) => void;

/** Bytes moved in a session, both ways. */
export interface SessionCounts {
  stdin: number;
  stdout: number;
  stderr: number;
  /** Output dropped because the host had gone (the stream failed). */
  outputDropped: number;
}

/** `from vsock://2:1025 ("name")` */
export function describePeer(peer: PeerContext): string {
  return `${formatAddress(peer.address)} (${JSON.stringify(escapeText(peer.name, 64))})`;
}

/** The command as a JSON-ish list, each argument escaped and bounded. */
export function describeArgv(argv: readonly string[]): string {
  const shown = argv.slice(0, 32).map((a) => JSON.stringify(escapeText(a, 200)));
  if (argv.length > 32) shown.push(`… ${argv.length - 32} more`);
  return `[${shown.join(', ')}]`;
}

/** The line of a session's start. */
export function startLine(id: number, peer: PeerContext, open: OpenRequest, pid: number): string {
  const extras: string[] = [];
  if (open.tty) extras.push(`tty ${open.tty.size.cols}x${open.tty.size.rows}`);
  if (open.cwd !== undefined) extras.push(`cwd ${JSON.stringify(escapeText(open.cwd))}`);
  if (open.timeoutMs !== undefined) extras.push(`timeout ${open.timeoutMs} ms`);
  if (open.env.length > 0) extras.push(`${open.env.length} env`);
  return `session ${id} from ${describePeer(peer)}: pid ${pid} ${describeArgv(open.argv)}${extras.length ? ` ${extras.join(', ')}` : ''}`;
}

/** The line of a session's end. */
export function endLine(id: number, status: ExitStatus, ms: number, counts: SessionCounts, hostGone: boolean): string {
  const moved = `in ${counts.stdin} B, out ${counts.stdout} B, err ${counts.stderr} B`;
  const dropped = counts.outputDropped > 0 ? `, ${counts.outputDropped} B of output dropped` : '';
  const gone = hostGone ? ' (the host went away: process group killed)' : '';
  return `session ${id} ended: ${escapeText(describeStatus(status), 1024)} after ${Math.round(ms)} ms (${moved}${dropped})${gone}`;
}

/** The line of a refused session. */
export function refusedLine(peer: PeerContext, reason: string, argv: readonly string[] | undefined): string {
  return `refused a session from ${describePeer(peer)}: ${reason}${argv ? ` ${describeArgv(argv)}` : ''}`;
}

/** The line of a session whose command could not be started. */
export function notStartedLine(id: number, peer: PeerContext, argv: readonly string[], error: string): string {
  return `session ${id} from ${describePeer(peer)}: cannot start ${describeArgv(argv)}: ${escapeText(error, 512)}`;
}

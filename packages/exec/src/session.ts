/**
 * One session at the agent, from its `open` to its `exit`: checks (token, peer, session limit),
 * spawn, the stdin pump, the output pump, the timeout, and the kill of the process group when
 * the host goes away. A session's processes never outlive it: when the command has exited, what
 * is left of its process group is killed too (a daemon meant to stay must `setsid` itself).
 */
import { statSync } from 'node:fs';
import { RpcError, type StreamReader, type StreamResponder } from '@vsock-rpc/engine';
import { killGroup, type SessionChild } from './child.js';
import { spawnPiped, type SpawnSpec } from './child-pipes.js';
import { spawnPty } from './child-pty.js';
import { EXIT_NOT_STARTED } from './exit-status.js';
import { peerRefusal, type CidAllowlist } from './peer-policy.js';
import type { ExitStatus, OpenRequest, SessionInput, SessionOutput } from './registry.js';
import { endLine, notStartedLine, refusedLine, startLine, type AgentLog, type SessionCounts } from './session-log.js';
import { tokensEqual } from './token.js';

/** What a session needs from its agent. */
export interface SessionHost {
  readonly token: string | undefined;
  readonly allowCids: CidAllowlist;
  readonly baseEnv: NodeJS.ProcessEnv;
  readonly log: AgentLog;
  /** Takes a session slot and an id, or returns undefined when all slots are taken. */
  admit(connectionId: number, child: () => SessionChild | undefined): number | undefined;
  /** Gives the slot back. */
  release(id: number): void;
  /** Counts a refusal (for stats). */
  refused(): void;
}

/** Runs one session stream to its end (the `session` stream handler). */
export async function runSession(requests: StreamReader<SessionInput>, stream: StreamResponder<SessionOutput>, host: SessionHost): Promise<void> {
  const first = await requests.next();
  if (first.done || first.value.kind !== 'open') throw new RpcError('INVALID_ARGUMENT', 'the first message of a session must be `open`');
  const open = first.value.open;
  const refuse = (code: string, reason: string): never => {
    host.refused();
    host.log(refusedLine(stream, reason, code === 'PERMISSION_DENIED' ? undefined : open.argv));
    throw new RpcError(code, reason);
  };
  if (host.token !== undefined && !tokensEqual(open.token, host.token))
    refuse('PERMISSION_DENIED', 'wrong or missing token: pass the agent token with --token-file');
  const peerWhy = peerRefusal(stream, host.allowCids);
  if (peerWhy !== undefined) refuse('PERMISSION_DENIED', peerWhy);

  let child: SessionChild | undefined;
  const id = host.admit(stream.connectionId, () => child);
  if (id === undefined) refuse('RESOURCE_EXHAUSTED', 'the agent runs its maximum of sessions (--max-sessions): retry later');
  try {
    await runAdmitted(id!, open, requests, stream, host, (c) => (child = c));
  } finally {
    host.release(id!);
  }
}

async function runAdmitted(
  id: number,
  open: OpenRequest,
  requests: StreamReader<SessionInput>,
  stream: StreamResponder<SessionOutput>,
  host: SessionHost,
  setChild: (c: SessionChild) => void,
): Promise<void> {
  const t0 = performance.now();
  const counts: SessionCounts = { stdin: 0, stdout: 0, stderr: 0, outputDropped: 0 };
  const spec: SpawnSpec = { argv: open.argv, env: { ...host.baseEnv, ...envOf(open.env) }, cwd: open.cwd };
  let child: SessionChild;
  try {
    checkCwd(open.cwd);
    child = open.tty ? await spawnPty(spec, open.tty.size, open.tty.term) : await spawnPiped(spec);
  } catch (err) {
    const status: ExitStatus = { code: EXIT_NOT_STARTED, timedOut: false, error: (err as Error).message, stdinDiscarded: 0 };
    host.log(notStartedLine(id, stream, open.argv, (err as Error).message));
    await stream.end({ kind: 'exit', status });
    return;
  }
  setChild(child);
  host.log(startLine(id, stream, open, child.pid));
  // The first thing the host hears: the id that `signal` and `resize` name, and the pid.
  void stream.write({ kind: 'started', session: id, pid: child.pid }).catch(() => {});

  let timedOut = false;
  let hostGone = false;
  const timer = open.timeoutMs === undefined ? undefined : setTimeout(() => ((timedOut = true), child.signalGroup('SIGKILL')), open.timeoutMs);
  // The host went away (connection closed, stream cancelled or reset): no orphans.
  const onAbort = () => ((hostGone = true), child.signalGroup('SIGKILL'));
  stream.signal.addEventListener('abort', onAbort, { once: true });
  if (stream.signal.aborted) onAbort();

  let stdinDiscarded = 0;
  const stdinDone = (async () => {
    try {
      for await (const m of requests) {
        if (m.kind !== 'stdin') continue; // a second `open` is meaningless: ignored
        counts.stdin += m.data.length;
        if (!(await child.writeStdin(m.data))) stdinDiscarded += m.data.length;
      }
      child.endStdin();
    } catch {
      // The stream failed: onAbort kills the group.
    }
  })();

  let outputFailed = false;
  const exit = await child.run(async (kind, data) => {
    counts[kind] += data.length;
    if (outputFailed) return void (counts.outputDropped += data.length);
    try {
      await stream.write({ kind, data });
    } catch {
      outputFailed = true; // the stream failed: keep draining so the child can be reaped
      counts.outputDropped += data.length;
    }
  });
  clearTimeout(timer);
  stream.signal.removeEventListener('abort', onAbort);
  killGroup(child.pid, 'SIGKILL'); // what the command left behind in its group
  void (requests as { return?: () => unknown }).return?.(); // stop reading stdin: the rest is discarded
  void stdinDone;

  const status: ExitStatus = { ...exit, timedOut, stdinDiscarded };
  host.log(endLine(id, status, performance.now() - t0, counts, hostGone));
  if (!stream.signal.aborted) await stream.end({ kind: 'exit', status });
}

/** `['A=1', 'B=x=y']` → `{ A: '1', B: 'x=y' }` (the schema guarantees a name before the first `=`). */
function envOf(entries: readonly string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const e of entries) {
    const eq = e.indexOf('=');
    env[e.slice(0, eq)] = e.slice(eq + 1);
  }
  return env;
}

/** node reports a missing cwd as the program's ENOENT: say which one is missing. */
function checkCwd(cwd: string | undefined): void {
  if (cwd === undefined) return;
  let isDir = false;
  try {
    isDir = statSync(cwd).isDirectory();
  } catch {
    // reported below
  }
  if (!isDir) throw new Error(`working directory ${cwd} does not exist or is not a directory`);
}

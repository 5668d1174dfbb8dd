// Forks the two peer processes of one run, pins them, and collects their results over IPC.
// The parent only orchestrates: it measures nothing itself.
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FromPeer, PeerRoleName, ToPeer } from '../peers/peer-ipc.js';
import type { CpuPlan, PeerPairResult, PeerPairSpec } from '../workload-contract.js';

const peerMain = fileURLToPath(new URL('../peers/main.js', import.meta.url));

export interface PairOptions {
  readonly tmpDir: string;
  readonly cpus: CpuPlan;
  readonly taskset: string | null;
  readonly signal: AbortSignal;
}

interface PeerHandle {
  readonly role: PeerRoleName;
  readonly child: ChildProcess;
  readonly ready: Promise<void>;
  readonly result: Promise<unknown>;
}

/**
 * V8 flags of every peer process, baselines and vsock-rpc alike. A peer that reads at GB/s has
 * Node allocate a 64 KiB buffer per socket read, and V8 collects the young generation every
 * 32 MiB of them. With V8's default start, a process whose old generation holds ~10 MiB (the
 * engine, TypeBox, msgpackr) has less headroom to its old-generation limit than the young
 * generation is large, so V8 makes each of those collections a full mark-compact: 35–40 per
 * second, a third of the receiver's CPU, and half its throughput on 1 MiB messages (profiled
 * with perf and --trace-gc; ARCHITECTURE.md, "Large messages and V8's heap"). A higher initial
 * old-generation limit keeps them young collections. Processes with small heaps (the raw
 * baselines) are unaffected; every peer gets the same flag so that the ratios stay like for like.
 */
export const PEER_V8_FLAGS: readonly string[] = ['--initial-old-space-size=64'];

function forkPeer(role: PeerRoleName, impl: string, cpu: number | null, taskset: string | null): PeerHandle {
  const pinned = cpu !== null && taskset !== null;
  // Launching under taskset (rather than re-pinning after start) pins every thread of the
  // process, libuv and V8 helpers included, from its first instruction.
  const child = fork(peerMain, [impl], {
    execPath: pinned ? taskset : process.execPath,
    execArgv: pinned ? ['-c', String(cpu), process.execPath, ...PEER_V8_FLAGS] : [...PEER_V8_FLAGS],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let onReady: () => void = () => {};
  let onResult: (v: unknown) => void = () => {};
  let onFail: (e: Error) => void = () => {};
  const ready = new Promise<void>((resolve, reject) => {
    onReady = resolve;
    child.once('exit', () => reject(new Error(`${role} peer exited before it was ready`)));
  });
  const result = new Promise<unknown>((resolve, reject) => {
    onResult = resolve;
    onFail = reject;
  });
  // Either may be left unawaited when the other side fails first.
  ready.catch(() => {});
  result.catch(() => {});
  child.on('message', (raw: unknown) => {
    const msg = raw as FromPeer;
    if (msg.type === 'ready') onReady();
    else if (msg.type === 'result') onResult(msg.result);
    else onFail(new Error(`${role} peer failed: ${msg.message}${msg.stack ? `\n${msg.stack}` : ''}`));
  });
  child.once('error', (err) => onFail(err));
  child.once('exit', (code, signal) => onFail(new Error(`${role} peer exited (${signal ?? `code ${code}`}) without a result`)));
  return { role, child, ready, result };
}

function send(peer: PeerHandle, msg: ToPeer): void {
  // The callback takes send errors (EPIPE: the peer already exited after sending its result),
  // which would otherwise surface as the child's 'error' event and fail the run.
  if (peer.child.connected) peer.child.send(msg, () => {});
}

function abortedPromise(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    const fail = (): void => reject(new Error('run exceeded its hard deadline and was killed'));
    if (signal.aborted) fail();
    else signal.addEventListener('abort', fail, { once: true });
  });
}

/** Resolves when `p` rejects; never when it resolves. */
const failureOf = (p: Promise<unknown>): Promise<never> => p.then(() => new Promise<never>(() => {}));

async function reap(peer: PeerHandle, graceMs: number): Promise<void> {
  const { child } = peer;
  if (child.exitCode !== null || child.signalCode !== null) return;
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await once(child, 'exit');
  clearTimeout(timer);
}

/** The first failure is often a consequence (EPIPE in the client because the server died):
 *  wait briefly for both peers' outcomes and report every error, server first. */
async function withPeerErrors(first: unknown, server: PeerHandle, client: PeerHandle): Promise<Error> {
  const settled = await Promise.race([
    Promise.allSettled([server.result, client.result]),
    new Promise<null>((resolve) => setTimeout(() => resolve(null), 500)),
  ]);
  const firstMsg = first instanceof Error ? first.message : String(first);
  const messages = (settled ?? []).flatMap((s) => (s.status === 'rejected' ? [(s.reason as Error).message] : []));
  const all = [...new Set([...messages.filter((m) => !m.includes('without a result')), firstMsg])];
  return new Error(all.join('\n'));
}

export async function runPeerPair<S, C>(spec: PeerPairSpec, opts: PairOptions): Promise<PeerPairResult<S, C>> {
  const socketPath = path.join(opts.tmpDir, 'peer.sock');
  const start = (role: PeerRoleName): ToPeer => ({
    type: 'start',
    impl: spec.impl,
    role,
    socketPath,
    tmpDir: opts.tmpDir,
    params: spec.params,
  });
  const aborted = abortedPromise(opts.signal);
  aborted.catch(() => {});
  // Both processes boot in parallel; the client is only told to start once the server listens.
  const server = forkPeer('server', spec.impl, opts.cpus.server, opts.taskset);
  const client = forkPeer('client', spec.impl, opts.cpus.client, opts.taskset);
  try {
    send(server, start('server'));
    await Promise.race([server.ready, failureOf(server.result), failureOf(client.result), aborted]);
    send(client, start('client'));
    const clientResult = await Promise.race([client.result, failureOf(server.result), aborted]);
    send(server, { type: 'stop' });
    const serverResult = await Promise.race([server.result, aborted]);
    return { server: serverResult as S, client: clientResult as C };
  } catch (err) {
    throw await withPeerErrors(err, server, client);
  } finally {
    const grace = opts.signal.aborted ? 0 : 3000;
    await Promise.all([reap(server, grace), reap(client, grace)]);
  }
}

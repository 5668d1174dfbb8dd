/**
 * Shared helpers of the exec tests: agents and clients on unix / TCP / hybrid (through a muxer
 * that plays the VMM) that are closed after each test, output collectors, the built CLI as a
 * child process, and process checks (is a pid gone?) that poll instead of sleeping.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterEach } from 'vitest';
import { formatAddress } from '@vsock-rpc/engine';
import { ExecAgent, ExecClient, type ExecAgentOptions } from '../src/index.js';

/** The built CLI (tests that spawn it need `npx tsc -b packages/exec` first). */
export const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));

const cleanups: (() => unknown)[] = [];
/** Registers `fn` to run after the current test (in reverse order). */
export function onCleanup(fn: () => unknown): void {
  cleanups.push(fn);
}
afterEach(async () => {
  while (cleanups.length > 0) {
    try {
      await cleanups.pop()!();
    } catch {
      // cleanup is best effort
    }
  }
});

/** A fresh temp dir, removed after the test. */
export function tempDir(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vsexec-test-'));
  onCleanup(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export type Transport = 'unix' | 'tcp' | 'hybrid';
export const TRANSPORTS: Transport[] = ['unix', 'tcp', 'hybrid'];

/** The port the fake VMM muxer maps to the agent (the seed's 1234). */
export const HYBRID_PORT = 1234;

export interface AgentUnderTest {
  agent: ExecAgent;
  /** The address a client dials (through the muxer for hybrid). */
  connect: string;
  log: string[];
}

/** Starts an agent reachable over `transport`; closed after the test. Its log lines are kept. */
export async function startAgent(transport: Transport, options: ExecAgentOptions = {}): Promise<AgentUnderTest> {
  const log: string[] = [];
  const dir = tempDir();
  const listen = transport === 'tcp' ? 'tcp://127.0.0.1:0' : `unix://${path.join(dir, 'agent.sock')}`;
  const agent = await ExecAgent.listen(listen, { log: (l) => log.push(l), ...options });
  onCleanup(() => agent.close(500));
  let connect = formatAddress(agent.address);
  if (transport === 'hybrid') {
    const uds = path.join(dir, 'vmm.vsock');
    await startMuxer(uds, { [HYBRID_PORT]: path.join(dir, 'agent.sock') });
    connect = `hybrid://${uds}:${HYBRID_PORT}`;
  }
  return { agent, connect, log };
}

/**
 * A fake VMM (Firecracker / Cloud Hypervisor) hybrid vsock muxer at `uds`: reads
 * `CONNECT <port>\n`, connects to the unix socket that `ports` maps the port to (the "guest"),
 * answers `OK <hostport>\n`, then splices both ways. An unknown port: the connection is dropped.
 */
export async function startMuxer(uds: string, ports: Record<number, string>): Promise<void> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((u) => {
    sockets.add(u);
    u.on('error', () => {});
    let buf = Buffer.alloc(0);
    const onData = (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      const nl = buf.indexOf(0x0a);
      if (nl < 0) return;
      u.off('data', onData);
      u.pause();
      const m = /^CONNECT (\d+)$/.exec(buf.subarray(0, nl).toString('latin1'));
      const target = m ? ports[Number(m[1])] : undefined;
      if (!target) return void u.destroy();
      const g = net.connect(target, () => {
        u.write(`OK ${1_073_741_824 + sockets.size}\n`);
        const rest = buf.subarray(nl + 1);
        if (rest.length > 0) g.write(rest);
        u.pipe(g);
        g.pipe(u);
        u.resume();
      });
      sockets.add(g);
      // pipe() passes an end on after what came before it (a GOAWAY before a close must arrive).
      g.on('error', () => u.destroy());
      u.on('error', () => g.destroy());
    };
    u.on('data', onData);
  });
  await new Promise<void>((resolve) => server.listen(uds, resolve));
  onCleanup(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((r) => server.close(r));
  });
}

/** Connects a client; closed after the test. */
export async function connectClient(address: string): Promise<ExecClient> {
  const client = await ExecClient.connect(address);
  onCleanup(() => client.close(200));
  return client;
}

/** A Writable that keeps what it is given. */
export class Collector extends Writable {
  readonly chunks: Buffer[] = [];
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void): void {
    this.chunks.push(chunk);
    cb();
  }
  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
  bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

/** Polls `cond` every 20 ms until it holds (throws after `ms`). */
export async function waitFor(cond: () => boolean, what: string, ms = 10_000): Promise<void> {
  const end = performance.now() + ms;
  while (!cond()) {
    if (performance.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Whether process `pid` is no longer running: `kill(pid, 0)` fails with ESRCH, or it is a zombie
 * waiting for a reaper (an orphaned grandchild is reparented to PID 1, which on some CI
 * containers never reaps: it is dead all the same).
 */
export function isGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
}

/** Runs the CLI; resolves with its exit code, stdout and stderr. */
export function runCli(
  args: string[],
  opts: { input?: Buffer | string; env?: NodeJS.ProcessEnv } = {},
): { child: ChildProcess; done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> } {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...opts.env } });
  onCleanup(() => child.exitCode === null && child.kill('SIGKILL'));
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout!.on('data', (d: Buffer) => out.push(d));
  child.stderr!.on('data', (d: Buffer) => err.push(d));
  if (opts.input !== undefined) child.stdin!.end(opts.input);
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve) => {
    child.once('close', (code, signal) => resolve({ code, signal, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() }));
  });
  return { child, done };
}

/** A random token. */
export function randomToken(): string {
  return randomBytes(16).toString('hex');
}

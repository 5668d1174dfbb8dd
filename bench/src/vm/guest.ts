// The vsock workload's guest run: boots the QEMU test guest through test/vm/harness.ts (imported
// through ts-loader.ts) and runs test/vm/guest/vsock-throughput.mjs in it: echo throughput over
// vsock loopback (CID 1) of @vsock-rpc/vsock (Node) against bench/c/vsock_echo.c, interleaved
// round by round in the same guest. AF_VSOCK is only ever opened inside the guest.
import { execFileSync } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, statSync } from 'node:fs';
import { register } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = (p: string): string => fileURLToPath(new URL(`../../../${p}`, import.meta.url));
const HARNESS = repo('test/vm/harness.ts');
const GUEST_SCRIPT = 'test/vm/guest/vsock-throughput.mjs';
const C_SRC = repo('bench/c/vsock_echo.c');
// where the guest script looks for the binary (the vsock test tier builds it there too)
const C_BIN = repo('test/vm/.cache/vsock_echo');
const VSOCK_BUILT = [repo('packages/vsock/dist/index.js'), repo('packages/vsock/build/Release/vsock.node')];

interface Harness {
  vmSupport(): { available: true } | { available: false; reason: string };
  runInGuest(opts: { commands: string[]; timeoutMs?: number; env?: Record<string, string> }): Promise<{
    results: Record<string, unknown>;
    exitCodes: number[];
    console: string;
    durationMs: number;
  }>;
}

export interface VsockRound {
  readonly bufferSize: number;
  readonly MBps: number;
  readonly mbps: number;
  readonly seconds: number;
}

export interface VsockGuestResult {
  readonly bytes: number;
  readonly chunk: number;
  readonly node: readonly VsockRound[];
  readonly c: readonly VsockRound[];
  readonly guestSeconds: number;
}

export interface VsockGuestPlan {
  readonly bytes: number;
  readonly rounds: number;
  readonly configs: ReadonlyArray<{ readonly bufferSize: number; readonly highWaterMark: number }>;
  readonly timeoutMs: number;
}

function onPath(name: string): boolean {
  return (process.env['PATH'] ?? '').split(path.delimiter).some((dir) => {
    if (!dir) return false;
    try {
      accessSync(path.join(dir, name), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

let harness: Promise<Harness> | undefined;
function loadHarness(): Promise<Harness> {
  if (!harness) {
    register(new URL('./ts-loader.js', import.meta.url));
    harness = import(new URL(`file://${HARNESS}`).href) as Promise<Harness>;
  }
  return harness;
}

/** Why the guest cannot run here, or null. Cheap checks first; the harness's own probe last. */
export async function guestUnavailable(): Promise<string | null> {
  if (!onPath('qemu-system-x86_64')) return 'qemu-system-x86_64 is not on PATH (the vsock figures need the QEMU test guest; see test/vm/README.md)';
  if (!existsSync(HARNESS)) return `${HARNESS} is missing`;
  for (const f of VSOCK_BUILT) if (!existsSync(f)) return `${f} is missing: build @vsock-rpc/vsock first (npm run build)`;
  if (process.env['VSOCK_RPC_NO_VM'] === '1') return 'VSOCK_RPC_NO_VM=1';
  try {
    const s = (await loadHarness()).vmSupport();
    return s.available ? null : s.reason;
  } catch (err) {
    return `cannot load the QEMU harness: ${(err as Error).message}`;
  }
}

function ensureCBaseline(): void {
  if (existsSync(C_BIN) && statSync(C_BIN).mtimeMs >= statSync(C_SRC).mtimeMs) return;
  mkdirSync(path.dirname(C_BIN), { recursive: true });
  try {
    execFileSync('gcc', ['-O2', '-pthread', '-o', C_BIN, C_SRC], { stdio: 'pipe' });
  } catch (err) {
    throw new Error(`cannot build the C baseline (gcc -O2 -pthread ${C_SRC}): ${(err as Error).message}`, { cause: err });
  }
}

export async function runGuest(plan: VsockGuestPlan): Promise<VsockGuestResult> {
  ensureCBaseline();
  const h = await loadHarness();
  const run = await h.runInGuest({
    commands: [`node ${GUEST_SCRIPT}`],
    timeoutMs: plan.timeoutMs,
    env: {
      VSOCK_BENCH_BYTES: String(plan.bytes),
      VSOCK_BENCH_ROUNDS: String(plan.rounds),
      VSOCK_BENCH_CONFIGS: JSON.stringify(plan.configs),
    },
  });
  const r = run.results['vsock-throughput'] as { ok: boolean; error?: string; bytes: number; chunk: number; node: VsockRound[]; c: VsockRound[] } | undefined;
  if (!r) throw new Error(`the guest wrote no result (exit codes ${JSON.stringify(run.exitCodes)}); console tail:\n${run.console.slice(-1500)}`);
  if (!r.ok) throw new Error(`guest run failed: ${r.error ?? 'unknown error'}`);
  return { bytes: r.bytes, chunk: r.chunk, node: r.node, c: r.c, guestSeconds: run.durationMs / 1000 };
}

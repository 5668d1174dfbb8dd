/**
 * @vsock-rpc/vsock over real AF_VSOCK, inside one QEMU guest (vsock_loopback + vhost_vsock):
 * the guest scripts in guest/vsock-*.mjs run the BUILT package and write one JSON result per
 * case; each case is asserted in its own `it` here. Never run those scripts on the host (they
 * refuse to: see assertInTestGuest).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { runInGuest, vmSupport, type RunInGuestResult } from './harness.js';

const support = vmSupport();
if (!support.available) console.warn(`[vm] skipping the vsock guest tier: ${support.reason}`);

const here = (p: string): string => fileURLToPath(new URL(p, import.meta.url));
const C_SRC = here('../../bench/c/vsock_echo.c');
const C_BIN = here('.cache/vsock_echo');
const DIST = here('../../packages/vsock/dist/index.js');
const ADDON = here('../../packages/vsock/build/Release/vsock.node');

/** Builds the C baseline on the host (the guest runs the host's binaries through its chroot). */
function buildCBaseline(): string | undefined {
  try {
    if (existsSync(C_BIN) && statSync(C_BIN).mtimeMs >= statSync(C_SRC).mtimeMs) return undefined;
    mkdirSync(here('.cache'), { recursive: true });
    execFileSync('gcc', ['-O2', '-pthread', '-o', C_BIN, C_SRC], { stdio: 'pipe' });
    return undefined;
  } catch (err) {
    return `cannot build the C baseline: ${(err as Error).message}`;
  }
}

/** Bytes per program and configuration in the smoke run of the bench's throughput script. */
const SMOKE_BYTES = 4_000_000;

type Case = { ok: boolean; error?: string; [k: string]: unknown };

describe.skipIf(!support.available)('vsock in a QEMU guest', () => {
  let run: RunInGuestResult;
  let cBuildError: string | undefined;
  const result = (name: string): Case => {
    const r = run.results[name] as Case | undefined;
    if (!r) throw new Error(`no result ${name}; exit codes ${JSON.stringify(run.exitCodes)}; console tail:\n${run.console.slice(-3000)}`);
    if (!r.ok) throw new Error(`${name} failed in the guest: ${r.error}`);
    return r;
  };

  beforeAll(async () => {
    if (!existsSync(DIST) || !existsSync(ADDON)) {
      throw new Error('build @vsock-rpc/vsock first (npm run build): the guest runs packages/vsock/dist and build/Release/vsock.node');
    }
    cBuildError = buildCBaseline();
    run = await runInGuest({
      // The throughput script is the bench's (npm run bench, workload vsock); here it runs on a
      // few MB only, to show it works end to end. Its speed is measured by the bench, not here.
      commands: ['node test/vm/guest/vsock-cases.mjs', `VSOCK_BENCH_BYTES=${SMOKE_BYTES} VSOCK_BENCH_ROUNDS=1 node test/vm/guest/vsock-throughput.mjs`],
      timeoutMs: 420_000,
    });
    console.log(`[vm] vsock guest run: ${run.durationMs} ms, exit codes ${JSON.stringify(run.exitCodes)}`);
  }, 450_000);

  it('runs both guest scripts to completion, each exiting by itself (nothing leaked)', () => {
    for (const leak of ['vsock-cases-exit', 'vsock-throughput-exit']) expect(run.results[leak], leak).toBeUndefined();
    expect(run.exitCodes).toEqual([0, 0]);
    expect(result('vsock-env').localCid).toBe(2);
  });

  it('echoes 100 MB over vsock loopback (CID 1) with a matching checksum', () => {
    const r = result('vsock-echo100');
    expect(r.received).toBe(100_000_000);
    expect(r.recvSha).toBe(r.sentSha);
    expect(r.match).toBe(true);
    expect(r.peer).toMatchObject({ transport: 'vsock', cid: 1 });
    console.log(`[vm] 100 MB echo: ${(r.seconds as number).toFixed(2)} s, ${(r.MBps as number).toFixed(1)} MB/s each way`);
  });

  it('serves 64 concurrent connections', () => {
    const r = result('vsock-concurrent64');
    expect(r).toMatchObject({ connections: 64, accepted: 64, allEchoed: true, distinctLocalPorts: 64, remotePortOk: true, serverSawCid: [1] });
  });

  it('half-closes: the server answers after the client FIN', () => {
    const r = result('vsock-halfclose');
    expect(r.reply).toBe('received 12345 bytes after your FIN');
    expect(r.writableFinishedBeforeReply).toBe(true);
  });

  it('surfaces a peer reset as close (with ECONNRESET/EPIPE if any error)', () => {
    const r = result('vsock-reset') as Case & { events: string[] };
    for (const e of r.events.filter((x) => x.startsWith('error:'))) expect(['error:ECONNRESET', 'error:EPIPE']).toContain(e);
    expect(r.events.length).toBeGreaterThan(0);
  });

  it('connect to a port with no listener rejects with a typed error', () => {
    const r = result('vsock-nolistener');
    expect(r.isVsockError).toBe(true);
    expect(r.name).toBe('VsockConnectionRefusedError');
    expect(['ECONNRESET', 'ECONNREFUSED']).toContain(r.code);
    expect(r.message).toMatch(/no one listens on that CID and port/);
  });

  it('bind to a foreign CID is EADDRNOTAVAIL naming the CIDs bindable in the guest', () => {
    const r = result('vsock-foreigncid');
    expect(r.name).toBe('VsockAddressNotAvailableError');
    expect(r.code).toBe('EADDRNOTAVAIL');
    expect(r.message).toContain('-1 (any)');
    expect(r.message).toContain('1 (local');
    expect(r.message).toContain('2 (host');
  });

  it("runs the original's defaults: server CID any port 11451, client dials CID 2", () => {
    const r = result('vsock-defaults');
    expect(r.address).toEqual({ cid: r.anyIs, port: 11451 });
    expect(r.echo).toBe('hello over CID 2');
    expect(r.echo2).toBe('still open after server.close()');
    expect(r.afterClose).toBe('VsockConnectionRefusedError');
    expect(r.peer).toEqual({ transport: 'vsock', address: 'vsock://2:11451', cid: 2, port: 11451 });
  });

  it('a worker thread with an open vsock listener can be terminated: no crash, port released', () => {
    const r = result('vsock-worker-teardown');
    expect(r.first).toBe('ping');
    expect(r.exitCode).toBe(1); // worker.terminate() resolves 1
    expect(r.after).toBe('VsockConnectionRefusedError'); // the env cleanup hook closed the listener
    expect(r.echo).toBe('alive');
  });

  it('an unreachable CID fails with a typed error', () => {
    const r = result('vsock-unreachable');
    expect(r.connected).toBeUndefined();
    expect(String(r.name)).toMatch(/^Vsock\w+Error$/);
  });

  it("the bench's vsock throughput script echoes every byte through both Node and the C baseline", () => {
    if (cBuildError) throw new Error(cBuildError);
    type Round = { bufferSize: number; bytes: number; seconds: number; mbps: number };
    const r = result('vsock-throughput') as Case & { node: Round[]; c: Round[]; byConfig: { bufferSize: number; ratio: number }[] };
    // One round per configuration (kernel-default and 1 MiB vsock buffers), each program echoing
    // all SMOKE_BYTES: the Node round throws on a short echo, the C program reports an error.
    expect(r.node.map((x) => x.bufferSize)).toEqual([0, 1 << 20]);
    expect(r.c.map((x) => x.bufferSize)).toEqual([0, 1 << 20]);
    for (const x of [...r.node, ...r.c]) {
      expect(x.bytes).toBe(SMOKE_BYTES);
      expect(x.seconds).toBeGreaterThan(0);
    }
    // The ratio the bench reports is computable for each configuration (its size is the bench's job).
    for (const cfg of r.byConfig) expect(Number.isFinite(cfg.ratio) && cfg.ratio > 0, JSON.stringify(cfg)).toBe(true);
    console.log(`[vm] throughput smoke (${SMOKE_BYTES / 1e6} MB, not a measurement): ${JSON.stringify(r.byConfig)}`);
  });
});

/**
 * The legacy wire over real AF_VSOCK, inside one QEMU guest, against a C++ peer built here from
 * the wire's description (packages/legacy/README.md) with Debian's libcereal-dev, the library
 * the original C++ envtest serialises with:
 *   A. `envtest server --wire legacy` (vsock://any:47916) and three C++ clients connected at once;
 *   B. a C++ server (it accepts once, as the original) and `envtest client --wire legacy`.
 * The peer is compiled on the host into test/vm/.cache (the guest sees the host's / read-only).
 * Without g++ or cereal (scripts/ensure-legacy-peer.sh installs them) the test is skipped.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT, runInGuest, vmSupport } from './harness.js';

const SOURCE = join(REPO_ROOT, 'test', 'vm', 'legacy', 'legacy-peer.cpp');
const CEREAL = '/usr/include/cereal/archives/binary.hpp';

function toolchain(): { available: true } | { available: false; reason: string } {
  if (!existsSync(CEREAL)) return { available: false, reason: `no ${CEREAL} (apt-get install libcereal-dev; scripts/ensure-legacy-peer.sh)` };
  try {
    execFileSync('g++', ['--version'], { stdio: 'ignore' });
  } catch {
    return { available: false, reason: 'no g++ (apt-get install g++; scripts/ensure-legacy-peer.sh)' };
  }
  return { available: true };
}

/** Compiles the peer once per source text into the cache the guest can read. */
function buildPeer(): string {
  const src = readFileSync(SOURCE);
  const key = createHash('sha256').update(src).digest('hex').slice(0, 12);
  const dir = join(REPO_ROOT, 'test', 'vm', '.cache');
  const bin = join(dir, `legacy-peer-${key}`);
  if (existsSync(bin)) return bin;
  mkdirSync(dir, { recursive: true });
  const tmp = `${bin}.${process.pid}.tmp`;
  execFileSync('g++', ['-O2', '-std=c++17', '-Wall', '-Wextra', '-Werror', '-o', tmp, SOURCE], { stdio: ['ignore', 'inherit', 'inherit'] });
  renameSync(tmp, bin);
  return bin;
}

const vm = vmSupport();
const tools = toolchain();
if (!vm.available) console.warn(`legacy.vm.test: skipped: ${vm.reason}`);
else if (!tools.available) console.warn(`legacy.vm.test: skipped: ${tools.reason}`);

interface LegacyResult {
  ok: boolean;
  error?: string;
  serverSide: {
    clientExitCodes: number[];
    serverExitCode: number;
    perClient: { name: string; sent: number; missing: number; sources: string[]; clockLines: number }[];
    bySource: Record<string, number>;
    legacy: Record<string, { messages: number; clockExchanges: number; correctionAgeMs?: number }>;
    serverStdout: string[];
    lateBySource: Record<string, number>;
    dropped: number;
    exportHead: string[];
  };
  clientSide: {
    clientExitCode: number;
    cxxExitCode: number;
    cxx: { messages: number; clockRequests: number; badTexts: number; unusedNonzero: number; requestNonzero: number; maxAheadNs: number; maxBehindNs: number };
    clientSummary: { events: { total: number }; dropped: number };
  };
}

describe.skipIf(!vm.available || !tools.available)('legacy wire against a C++ peer (cereal), real vsock on port 47916', () => {
  it('envtest server --wire legacy takes three C++ clients at once; envtest client --wire legacy feeds a C++ server', async () => {
    const peer = buildPeer();
    const r = await runInGuest({ commands: [`node test/vm/guest/legacy-check.mjs '${peer}'`], timeoutMs: 480_000 });
    const res = r.results['legacy'] as LegacyResult | undefined;
    if (!res?.ok) console.log(r.console.slice(-8000));
    expect(res?.error).toBeUndefined();
    expect(r.exitCodes).toEqual([0]);
    const a = res!.serverSide;
    console.log(`legacy.vm.test: envtest server --wire legacy, first lines of its output:\n${a.serverStdout.join('\n')}`);
    expect(a.clientExitCodes).toEqual([0, 0, 0]);
    expect(a.serverExitCode).toBe(0);
    for (const c of a.perClient) {
      expect(c).toMatchObject({ sent: 30, missing: 0 }); // every message arrived intact
      expect(c.sources).toHaveLength(1); // one source per connection
      expect(c.clockLines).toBe(2); // both clock requests answered
    }
    expect(new Set(a.perClient.map((c) => c.sources[0])).size).toBe(3);
    for (const c of a.perClient) {
      expect(a.bySource[c.sources[0]!]).toBe(30);
      expect(a.legacy[c.sources[0]!]).toMatchObject({ messages: 30, clockExchanges: 2 });
    }
    console.log(`legacy.vm.test: what the server measured per source: ${JSON.stringify(a.legacy)}`);
    console.log(`legacy.vm.test: late ${JSON.stringify(a.lateBySource)}, dropped ${a.dropped}; export head:\n${a.exportHead.join('\n')}`);
    const b = res!.clientSide;
    console.log(`legacy.vm.test: the C++ server's count of what envtest client --wire legacy sent: ${JSON.stringify(b.cxx)}`);
    expect(b.clientExitCode).toBe(0);
    expect(b.cxxExitCode).toBe(0);
    expect(b.cxx).toMatchObject({ messages: 25, badTexts: 0, unusedNonzero: 0, requestNonzero: 0 });
    expect(b.cxx.clockRequests).toBeGreaterThanOrEqual(1);
    expect(b.clientSummary.events.total).toBe(25);
  }, 540_000);
});

/**
 * vsexec (packages/exec, issue 17) in one QEMU guest boot: guest/exec-cases.mjs starts
 * `vsexec agent` on vsock://any:1234 (token required, CIDs 1 and 2 allowed: loopback peers are
 * CID 1) and runs the BUILT `vsexec run` against it over real vsock loopback (vsock://1:1234) and
 * over hybrid vsock through an in-guest muxer playing the VMM (hybrid://<dir>/vmm.vsock:1234, the
 * seed's Cloud Hypervisor setup). Per transport: exit code 3 with "out"/"err" apart, a 100 MiB
 * stdin round trip with sha256, --timeout 1 killing `sleep 1000` (pid gone: ESRCH), ctrl-C
 * forwarding, -t (tty prints /dev/pts/N), 20 sessions at once, a wrong token refused. Then an agent
 * with the default allowlist (CID 2 only) refuses a CID 1 peer.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { runInGuest, vmSupport, type RunInGuestResult } from './harness.js';

const support = vmSupport();
if (!support.available) console.warn(`[vm] skipping the vsexec guest tier: ${support.reason}`);

const here = (p: string): string => fileURLToPath(new URL(p, import.meta.url));
const BUILT = ['../../packages/exec/dist/cli.js', '../../packages/exec/dist/index.js', '../../packages/vsock/build/Release/vsock.node'].map(here);
const TRANSPORTS = ['vsock', 'hybrid'] as const;
const STDIN_BYTES = Number(process.env.EXEC_VM_STDIN_BYTES ?? 100 * 1024 * 1024); // smaller only for a quick local try
const TIMEOUT_MS = 1_800_000; // a loaded machine's TCG guest moves ~1 MB/s through node: the 2 × 2 × 100 MiB dominate

type Case = { ok: boolean; error?: string; ms: number } & Record<string, unknown>;

describe.skipIf(!support.available)('vsexec in the QEMU guest (vsock and hybrid vsock)', () => {
  let run: RunInGuestResult;
  const result = (name: string): Case => {
    const r = run.results[name] as Case | undefined;
    if (!r) throw new Error(`no result ${name}; console tail:\n${run.console.slice(-4000)}`);
    if (!r.ok) throw new Error(`${name} failed in the guest: ${r.error}`);
    return r;
  };

  beforeAll(async () => {
    for (const f of BUILT) if (!existsSync(f)) throw new Error(`${f} is missing: build first (npx turbo run build --filter=@vsock-rpc/exec...)`);
    run = await runInGuest({ commands: ['node test/vm/guest/exec-cases.mjs'], timeoutMs: TIMEOUT_MS, env: { EXEC_VM_STDIN_BYTES: String(STDIN_BYTES) } });
    if (run.exitCodes[0] !== 0) console.log(run.console.slice(-8000));
    const times = Object.entries(run.results).map(([name, r]) => `${name} ${(r as Case).ms} ms`);
    console.log(`[vm] vsexec guest boot: ${Math.round(run.durationMs / 1000)} s in all; ${times.join(', ')}`);
  }, TIMEOUT_MS + 60_000);

  it('the guest script ran every case and exited by itself', () => {
    expect(run.exitCodes).toEqual([0]);
    expect(run.results['exec-cases-exit']).toBeUndefined();
  });

  describe.each(TRANSPORTS)('over %s', (t) => {
    it("sh -c 'echo out; echo err >&2; exit 3' → out on stdout, err on stderr, exit code 3", () => {
      expect(result(`exec-${t}-exitcode`)).toMatchObject({ code: 3, stdout: 'out\n', stderr: 'err\n' });
    });

    it(`${STDIN_BYTES >> 20} MiB of stdin through cat and back: the sha256 of what came back is that of what was sent`, () => {
      const r = result(`exec-${t}-stdin`);
      expect(r).toMatchObject({ bytes: STDIN_BYTES, catCode: 0, catBytes: STDIN_BYTES });
      expect(r.catSha256).toBe(r.sha256);
      console.log(`[vm] vsexec over ${t}: 100 MiB stdin→cat→stdout round trip at ${r.catMBps} MB/s (TCG guest)`);
    });

    it('--timeout 1 kills sleep 1000: exit 124, and the process is gone (ESRCH)', () => {
      const r = result(`exec-${t}-timeout`);
      expect(r).toMatchObject({ code: 124, gone: true });
      expect(r.stderr).toMatch(/timed out after 1 s/);
    });

    it('ctrl-C on the host reaches the remote group: a trap runs (exit 5); an untrapped sleep dies of SIGINT (130)', () => {
      const r = result(`exec-${t}-ctrlc`);
      expect(r).toMatchObject({ trapCode: 5, plainCode: 130, plainGone: true });
      expect(r.trapStdout).toContain('got INT');
    });

    it('-t gives a pseudo-terminal: tty prints /dev/pts/N', () => {
      const r = result(`exec-${t}-tty`);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^\/dev\/pts\/\d+\r?\n$/);
    });

    it('20 sessions at once (a barrier proves they overlap), each with its own output and exit code', () => {
      expect(result(`exec-${t}-many`)).toMatchObject({ sessions: 20, allRight: true });
    });

    it('a wrong or missing token is refused (exit 255, PERMISSION_DENIED)', () => {
      const r = result(`exec-${t}-token`);
      expect(r).toMatchObject({ wrongCode: 255, noneCode: 255 });
      expect(r.wrongStderr).toMatch(/PERMISSION_DENIED/);
      expect(r.noneStderr).toMatch(/PERMISSION_DENIED/);
    });
  });

  it('the default allowlist (CID 2) refuses a CID 1 peer, on vsock and through the muxer', () => {
    const r = result('exec-allowlist');
    expect(r).toMatchObject({ vsockCode: 255, hybridCode: 255 });
    expect(r.vsockStderr).toMatch(/CID_NOT_ALLOWED/);
    expect(r.hybridStderr).toMatch(/CID_NOT_ALLOWED/);
    expect(r.agentLog).toMatch(/CID 1 is not in the server's allowlist/);
  });

  it('nothing a refused session asked for ran, and the agent logged each session and refusal', () => {
    expect(result('exec-no-leftovers')).toMatchObject({ pwned: false });
    const log = String(result('exec-agent-log').log);
    expect(log).toMatch(/session \d+ from vsock:\/\/1:\d+ \("vsexec"\): pid \d+ \["sh", "-c", "echo out; echo err >&2; exit 3"\]/);
    expect(log).toMatch(/session \d+ ended: exit 3 after \d+ ms/);
    expect(log).toMatch(/ended: signal SIGKILL \(timed out\)/);
    expect(log).toMatch(/refused a session from .*wrong or missing token/);
  });
});

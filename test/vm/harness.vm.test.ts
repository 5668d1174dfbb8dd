/**
 * The guest harness itself: one boot checks that the commands really run in a QEMU guest whose
 * kernel has AF_VSOCK, that env/cwd/results/exit codes come back; a second boot checks the timeout.
 * Nothing here opens a vsock socket: on this host that is forbidden, and the guest-side socket
 * tests belong to vsock.vm.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { REPO_ROOT, guestSupportDetails, runInGuest, vmSupport } from './harness.js';

const support = vmSupport();
if (!support.available) console.warn(`[vm] skipping the QEMU guest tier: ${support.reason}`);

/** Runs in the guest with nothing but node: what a guest with vsock must look like. */
const PROBE = `
const fs = require('node:fs');
const os = require('node:os');
const read = (p) => { try { return fs.readFileSync(p, 'utf8').trim(); } catch (e) { return null; } };
let vsockDev = null;
try { vsockDev = fs.statSync('/dev/vsock').isCharacterDevice(); } catch {}
fs.writeFileSync(process.env.VM_RESULTS_DIR + '/guest.json', JSON.stringify({
  release: os.release(),
  sysVendor: read('/sys/class/dmi/id/sys_vendor'),
  vsockDev,
  protocols: (read('/proc/net/protocols') || '').split('\\n').map((l) => l.split(/\\s+/)[0]),
  vsockLoopback: fs.existsSync('/sys/module/vsock_loopback'),
  vhostVsock: fs.existsSync('/dev/vhost-vsock'),
  cwd: process.cwd(),
  env: { HOME: process.env.HOME, FOO: process.env.FOO, PATH: process.env.PATH },
}));
`;

describe.skipIf(!support.available)('QEMU guest harness', () => {
  it('runs commands in a guest kernel with AF_VSOCK and brings back results and exit codes', async () => {
    const r = await runInGuest({
      commands: [
        // The script travels in the environment, which also checks that env values arrive intact.
        'node -e "$PROBE"',
        'exit 3',
        'echo "{\\"n\\": 42}" > "$VM_RESULTS_DIR/second.json"',
        'echo not-json > "$VM_RESULTS_DIR/ignored.txt"; false',
      ],
      env: { FOO: 'it\'s a "value" with $pecial chars', PROBE },
      timeoutMs: 120_000,
    });
    console.log(`[vm] boot + 4 commands: ${r.durationMs} ms`);
    expect(r.exitCodes).toEqual([0, 3, 0, 1]);
    expect(Object.keys(r.results).sort()).toEqual(['guest', 'second']);
    expect(r.results.second).toEqual({ n: 42 });
    const g = r.results.guest as Record<string, unknown>;
    // The guest runs the kernel the harness booted, on QEMU's virtual hardware, with vsock loaded.
    expect(g.release).toBe(guestSupportDetails().kernelVersion);
    expect(g.sysVendor).toBe('QEMU');
    expect(g.vsockDev).toBe(true);
    expect(g.protocols).toContain('AF_VSOCK');
    expect(g.vsockLoopback).toBe(true);
    expect(g.vhostVsock).toBe(true);
    expect(g.cwd).toBe(REPO_ROOT);
    expect(g.env).toMatchObject({ HOME: '/tmp/home', FOO: 'it\'s a "value" with $pecial chars' });
    expect(r.console).toContain('@@VMRPC exit 1 3');
  }, 150_000);

  it('kills a guest that outlives timeoutMs and rejects with the console tail', async () => {
    const started = Date.now();
    // The marker is only there if the guest booted within the limit, which a loaded shared
    // machine does not promise; the firmware banner always is.
    await expect(runInGuest({ commands: ['echo still-running-marker; sleep 600'], timeoutMs: 20_000, memoryMb: 512, cpus: 1 })).rejects.toThrow(
      /timed out after 20000 ms; console tail:\n[\s\S]*(SeaBIOS|still-running-marker)/,
    );
    // Rejected at the deadline, not when the command would have ended.
    expect(Date.now() - started).toBeLessThan(40_000);
  }, 60_000);
});

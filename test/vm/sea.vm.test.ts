/**
 * The single-executable envtest (`npm run dist` → dist/envtest-linux-x64) in a QEMU guest whose
 * root has no Node: the guest builds a root of its own on a tmpfs with only static busybox, that
 * one file (as /bin/envtest), the glibc libraries `ldd` names for it and /dev, /proc, /tmp, then
 * chroots into it and runs `envtest server` and `envtest client --count 200` over real AF_VSOCK on
 * their default addresses (vsock://any:11451 and vsock://2:11451, which loops back inside the
 * guest). Nothing of the repository, node or node_modules is visible in that root.
 * Never run against vsock on the development machine itself (see test/vm/README.md).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, runInGuest, vmSupport } from './harness.js';

const SEA = join(REPO_ROOT, 'dist', `envtest-linux-x64`);
const ADDON = join(REPO_ROOT, 'packages/vsock/build/Release/vsock.node');
const COUNT = 200;
const NAME = 'sea-guest';

/** The shared libraries (and the dynamic loader) `ldd` lists for these files, as absolute paths. */
function sharedLibs(...files: string[]): string[] {
  const libs = new Set<string>();
  for (const f of files) {
    for (const line of execFileSync('ldd', [f], { encoding: 'utf8' }).split('\n')) {
      const m = /(?:=>\s*)?(\/\S+)\s+\(0x/.exec(line);
      if (m?.[1]) libs.add(m[1]);
    }
  }
  return [...libs];
}

const shq = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/** What runs inside the no-Node root (busybox sh, PATH=/bin). Prints its transcript between markers. */
const INNER = `
echo "@@SEA begin"
echo "root: $(ls /)"
if command -v node >/dev/null || [ -e /usr/bin/node ] || [ -e ${shq(REPO_ROOT)} ]; then echo "node or the repo is visible"; exit 91; fi
echo "no node here; envtest is $(wc -c < /bin/envtest) bytes"
# TCG: threads start slowly and the first clock exchanges can take over the default 1 s.
envtest server --quiet --rate 50 --lateness-ms 30000 --timeout-scale 10 --summary /tmp/server-summary.json 2>/tmp/server.err &
server=$!
i=0
until grep -q 'listening on' /tmp/server.err 2>/dev/null; do
  i=$((i+1)); if [ $i -gt 1500 ] || ! kill -0 $server 2>/dev/null; then echo "server did not start"; cat /tmp/server.err; exit 90; fi
  sleep 0.2
done
envtest client --name ${NAME} --count ${COUNT} --timeout-scale 10 --summary /tmp/client-summary.json 2>/tmp/client.err
crc=$?
kill -INT $server
wait $server
src=$?
echo "$ envtest server (exit $src)"; cat /tmp/server.err
echo "$ envtest client --count ${COUNT} (exit $crc)"; cat /tmp/client.err
echo "@@SEA end"
echo "{\\"clientExit\\": $crc, \\"serverExit\\": $src}" > /tmp/exits.json
[ $crc -eq 0 ] && [ $src -eq 0 ]
`;

/** Runs in the harness's chroot (the host's / read-only, as root): builds the minimal root and enters it. */
function guestScript(libs: string[]): string {
  return [
    'set -e',
    'R="$VM_RESULTS_DIR"',
    'S=/tmp/sea-root',
    'mkdir -p $S/bin $S/dev $S/proc $S/tmp',
    `cp ${shq(busybox())} $S/bin/busybox`,
    'for a in sh ls cat grep sleep kill wc env; do ln -s busybox $S/bin/$a; done',
    `cp ${shq(SEA)} $S/bin/envtest`,
    ...libs.map((l) => `mkdir -p "$S$(dirname ${shq(l)})" && cp -L ${shq(l)} "$S"${shq(l)}`),
    'mount -t proc proc $S/proc',
    'mount -o bind /dev $S/dev',
    'mount -t tmpfs -o mode=1777 tmpfs $S/tmp',
    'set +e',
    `chroot $S /bin/busybox env -i PATH=/bin HOME=/tmp TMPDIR=/tmp /bin/sh -c ${shq(INNER)}`,
    'rc=$?',
    'for f in server-summary client-summary exits; do [ -f $S/tmp/$f.json ] && cp $S/tmp/$f.json "$R/"; done',
    'exit $rc',
  ].join('\n');
}

/** The host's static busybox (busybox-static, which the harness itself needs for its initramfs). */
function busybox(): string {
  for (const p of ['/usr/bin/busybox', '/bin/busybox']) if (existsSync(p)) return p;
  throw new Error('no busybox: apt-get install busybox-static');
}

describe.skipIf(!vmSupport().available)('the single-executable envtest in a QEMU guest without Node', () => {
  beforeAll(() => {
    // The packages are built already (npm test builds first); this bundles and injects (~10 s).
    execFileSync(process.execPath, [join(REPO_ROOT, 'scripts/dist.mjs'), '--no-build'], { cwd: REPO_ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  }, 180_000);

  it(`envtest server + envtest client --count ${COUNT} from dist/envtest-linux-x64, over real vsock on the default addresses`, async () => {
    const size = statSync(SEA).size;
    const r = await runInGuest({ commands: [guestScript(sharedLibs(SEA, ADDON))], timeoutMs: 300_000 });
    const context = r.console.slice(-6000);
    const transcript = /@@SEA begin\n([\s\S]*?)@@SEA end/.exec(r.console)?.[1];
    console.log(`dist/envtest-linux-x64: ${size} bytes; in the guest (${r.durationMs} ms):\n${transcript ?? '(no transcript)'}`);
    expect(r.exitCodes, context).toEqual([0]);
    expect(r.results['exits'], context).toEqual({ clientExit: 0, serverExit: 0 });
    expect(transcript).toContain('no node here');

    const server = r.results['server-summary'] as { events: { bySource: Record<string, number> }; dropped: number; details: { listen: string } };
    expect(server.details.listen).toMatch(/^vsock:\/\/.*:11451$/);
    expect(server.events.bySource[NAME], JSON.stringify(server)).toBe(COUNT);
    expect(server.dropped).toBe(0);
    const client = r.results['client-summary'] as { events: { total: number }; dropped: number };
    expect(client.events.total).toBe(COUNT);
    expect(client.dropped).toBe(0);
  }, 360_000);
});

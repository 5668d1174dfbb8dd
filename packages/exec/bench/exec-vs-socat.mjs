#!/usr/bin/env node
// The vsexec bench: boots the QEMU test guest once (test/vm/harness.ts) and measures, in that
// guest over the same vsock loopback, `vsexec run -- cat bigfile` against socat doing the same
// (`socat VSOCK-LISTEN:PORT,fork EXEC:"cat bigfile"` / `socat -u VSOCK-CONNECT:1:PORT -`),
// interleaved round by round (test/vm/guest/exec-bench.mjs). Prints the figures and the ratio.
//
//   node packages/exec/bench/exec-vs-socat.mjs [--mib 64] [--rounds 3] [--json out.json]
//
// Needs: the build (npx turbo run build --filter=@vsock-rpc/exec...), QEMU (scripts/ensure-qemu.sh)
// and Debian's socat (scripts/ensure-socat.sh; the guest shares this machine's /). AF_VSOCK is only
// ever opened inside the guest. TCG guest: absolute figures are low, the ratio is the point.
import { execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { register } from 'node:module';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const repo = (p) => fileURLToPath(new URL(`../../../${p}`, import.meta.url));
const { values } = parseArgs({ options: { mib: { type: 'string', default: '64' }, rounds: { type: 'string', default: '3' }, json: { type: 'string' } } });
const bytes = Number(values.mib) * 1024 * 1024;
const rounds = Number(values.rounds);

for (const f of ['packages/exec/dist/cli.js', 'packages/vsock/build/Release/vsock.node']) {
  if (!existsSync(repo(f))) throw new Error(`${f} is missing: build first (npx turbo run build --filter=@vsock-rpc/exec...)`);
}
try {
  execFileSync('socat', ['-V'], { stdio: 'ignore' });
} catch {
  console.error('socat is not installed: run scripts/ensure-socat.sh (the guest uses this machine’s socat)');
  process.exit(2);
}
register(new URL('./ts-loader.mjs', import.meta.url));
const { runInGuest, vmSupport } = await import(repo('test/vm/harness.ts'));
const support = vmSupport();
if (!support.available) {
  console.error(`the QEMU guest is not available here: ${support.reason}`);
  process.exit(2);
}

const run = await runInGuest({
  commands: ['node test/vm/guest/exec-bench.mjs'],
  timeoutMs: 1_800_000,
  env: { EXEC_BENCH_BYTES: String(bytes), EXEC_BENCH_ROUNDS: String(rounds) },
});
const r = run.results['exec-bench'];
if (!r?.ok) {
  console.error(`the guest run failed: ${r?.error ?? `no result (exit codes ${JSON.stringify(run.exitCodes)})`}\n${run.console.slice(-3000)}`);
  process.exit(1);
}
const f = (x) => x.toFixed(1);
console.log(`vsexec vs socat, ${values.mib} MiB through cat, vsock loopback in one TCG guest (${rounds} rounds interleaved, medians; ${r.socatVersion}):`);
console.log(`  vsexec run -- cat bigfile        ${f(r.vsexecMBps)} MB/s  (of which ${r.vsexecStartSeconds.toFixed(2)} s is a whole \`vsexec run -- true\`)`);
console.log(`  socat EXEC:cat / VSOCK-CONNECT   ${f(r.socatMBps)} MB/s`);
console.log(
  `  ratio vsexec/socat               ${r.ratio.toFixed(2)}× wall, ${r.streamingRatio.toFixed(2)}× streaming only (vsexec ${f(r.vsexecStreamingMBps)} MB/s after its start)`,
);
for (const [i, x] of r.rounds.entries())
  console.log(
    `  round ${i + 1}: vsexec ${x.vsexecSeconds.toFixed(2)} s, socat ${x.socatSeconds.toFixed(2)} s, vsexec true ${x.vsexecTrueSeconds.toFixed(2)} s`,
  );
if (values.json) writeFileSync(values.json, JSON.stringify({ ...r, guestSeconds: run.durationMs / 1000 }, null, 1));

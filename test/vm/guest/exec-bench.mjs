// The vsexec bench's guest side (packages/exec/bench/exec-vs-socat.mjs boots the guest): the
// throughput of `vsexec run -- cat bigfile` against socat doing the same over the same vsock
// loopback in the same guest — `socat VSOCK-LISTEN:PORT,fork EXEC:"cat bigfile"` read by
// `socat -u VSOCK-CONNECT:1:PORT -` — interleaved round by round, each output counted by `wc -c`.
// Also the time of a command that does nothing (`true`), so the fixed cost (node's start, the
// handshake) can be told from the streaming. Writes $VM_RESULTS_DIR/exec-bench.json.
// Never run this on the host: assertInTestGuest refuses to.
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { assertInTestGuest, expectExit, runCase } from './vsock-common.mjs';
import { CLI, startAgent } from './exec-common.mjs';

const NAME = 'exec-bench';
assertInTestGuest(NAME);

const BYTES = Number(process.env.EXEC_BENCH_BYTES ?? 64 * 1024 * 1024);
const ROUNDS = Number(process.env.EXEC_BENCH_ROUNDS ?? 3);
const AGENT_PORT = 1234;
const SOCAT_PORT = 1240;

const dir = mkdtempSync('/tmp/execbench-');
const bigFile = join(dir, 'bigfile');
{
  const block = randomBytes(1 << 20);
  const fd = openSync(bigFile, 'w');
  for (let off = 0; off < BYTES; off += block.length) writeSync(fd, block, 0, Math.min(block.length, BYTES - off));
  closeSync(fd);
}

/** Runs `sh -c script`; resolves with its wall time (s) and stdout. */
function timed(script) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn('/bin/sh', ['-c', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.once('error', reject);
    child.once('close', (code) =>
      code === 0 ? resolve({ seconds: (performance.now() - t0) / 1000, out: out.trim() }) : reject(new Error(`${script} exited ${code}`)),
    );
  });
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

await runCase(
  NAME,
  async () => {
    const socatVersion = execFileSync('socat', ['-V']).toString().split('\n')[1]?.trim();
    const agent = await startAgent(['--listen', `vsock://any:${AGENT_PORT}`, '--allow-cid', '1', '--timeout-scale', '3']);
    const socat = spawn('socat', [`VSOCK-LISTEN:${SOCAT_PORT},fork,reuseaddr`, `EXEC:cat ${bigFile}`], { stdio: 'inherit' });
    // socat binds at once; a short wait covers its start (a refused first connect would fail the round loudly).
    await new Promise((r) => setTimeout(r, 1000));
    if (socat.exitCode !== null) throw new Error(`socat exited with ${socat.exitCode}`);
    const vsexecCat = `node ${CLI} run -n --timeout-scale 3 --connect vsock://1:${AGENT_PORT} -- cat ${bigFile} | wc -c`;
    const socatCat = `socat -u VSOCK-CONNECT:1:${SOCAT_PORT} - | wc -c`;
    const vsexecTrue = `node ${CLI} run -n --timeout-scale 3 --connect vsock://1:${AGENT_PORT} -- true`;
    const rounds = [];
    for (let i = 0; i < ROUNDS; i++) {
      const v = await timed(vsexecCat);
      const s = await timed(socatCat);
      const vt = await timed(vsexecTrue);
      if (Number(v.out) !== BYTES || Number(s.out) !== BYTES) throw new Error(`byte counts: vsexec ${v.out}, socat ${s.out}, expected ${BYTES}`);
      rounds.push({ vsexecSeconds: v.seconds, socatSeconds: s.seconds, vsexecTrueSeconds: vt.seconds });
      console.error(`[${NAME}] round ${i + 1}: vsexec ${v.seconds.toFixed(2)} s, socat ${s.seconds.toFixed(2)} s, vsexec true ${vt.seconds.toFixed(2)} s`);
    }
    socat.kill('SIGTERM');
    await agent.stop();
    const mb = BYTES / 1e6;
    const v = median(rounds.map((r) => r.vsexecSeconds));
    const s = median(rounds.map((r) => r.socatSeconds));
    const vt = median(rounds.map((r) => r.vsexecTrueSeconds));
    return {
      bytes: BYTES,
      rounds,
      socatVersion,
      vsexecMBps: mb / v,
      socatMBps: mb / s,
      ratio: s / v,
      vsexecStartSeconds: vt,
      vsexecStreamingMBps: mb / Math.max(0.001, v - vt),
      streamingRatio: s / Math.max(0.001, v - vt),
    };
  },
  1_500_000,
);
rmSync(dir, { recursive: true, force: true });
expectExit(NAME);

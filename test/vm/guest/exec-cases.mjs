// vsexec (packages/exec) inside the QEMU test guest: `vsexec agent` on vsock://any:1234 and
// `vsexec run` against it over real vsock loopback (vsock://1:1234) AND over hybrid vsock through
// a muxer that plays the VMM (hybrid://<dir>/vmm.vsock:1234, the seed's exact setup). Per
// transport: exit code with stdout/stderr apart, a 100 MiB stdin round trip through cat with sha256, --timeout
// killing the command (no process left), ctrl-C forwarding, -t (a /dev/pts tty), 20 sessions at
// once, a wrong token. Then a second agent with the default allowlist (the host, CID 2 only)
// refuses a CID 1 peer. One result file per case: $VM_RESULTS_DIR/exec-<transport>-<case>.json.
// Never run this on the host: assertInTestGuest refuses to.
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { join } from 'node:path';
import { assertInTestGuest, expectExit, runCase } from './vsock-common.mjs';
import { isGone, runCli, startAgent, startMuxer, waitFor } from './exec-common.mjs';

const NAME = 'exec-cases';
assertInTestGuest(NAME);
const { ExecClient } = await import('../../../packages/exec/dist/index.js');

const STDIN_BYTES = Number(process.env.EXEC_VM_STDIN_BYTES ?? 100 * 1024 * 1024);
const SESSIONS = 20;
const PORT = 1234;
const DEFAULT_PORT = 1235;
// A TCG guest on a loaded 2-core machine can stall a process for seconds: scale the connection limits.
const SCALE = 3;

const dir = mkdtempSync('/tmp/execvm-');
const tokenFile = join(dir, 'token');
const wrongTokenFile = join(dir, 'wrong-token');
const TOKEN = randomBytes(16).toString('hex');
writeFileSync(tokenFile, `${TOKEN}\n`);
writeFileSync(wrongTokenFile, 'not-the-token\n');

/** Writes `bytes` random bytes to `path` (the guest's tmpfs); returns their sha256. */
function randomFile(path, bytes) {
  const fd = openSync(path, 'w');
  const hash = createHash('sha256');
  for (let off = 0; off < bytes; off += 1 << 20) {
    const chunk = randomBytes(Math.min(1 << 20, bytes - off));
    hash.update(chunk);
    writeFileSync(fd, chunk);
  }
  closeSync(fd);
  return hash.digest('hex');
}
const bigFile = join(dir, 'stdin.bin');
const bigSha = randomFile(bigFile, STDIN_BYTES);

// Agent A: loopback peers are CID 1 (vsock://1 and the muxer), so it admits 1 and 2, with a token.
const agent = await startAgent(['--listen', `vsock://any:${PORT}`, '--allow-cid', '1,2', '--token-file', tokenFile, '--timeout-scale', String(SCALE)]);
const muxer = await startMuxer(join(dir, 'vmm.vsock'));
const transports = { vsock: `vsock://1:${PORT}`, hybrid: `hybrid://${join(dir, 'vmm.vsock')}:${PORT}` };
const auth = ['--token-file', tokenFile, '--timeout-scale', String(SCALE)];

for (const [t, connect] of Object.entries(transports)) {
  const base = ['--connect', connect, ...auth];

  await runCase(`exec-${t}-exitcode`, async () => {
    const r = await runCli([...base, '--', 'sh', '-c', 'echo out; echo err >&2; exit 3']);
    return { code: r.code, stdout: r.stdout, stderr: r.stderr };
  });

  await runCase(
    `exec-${t}-stdin`,
    async () => {
      const t0 = performance.now();
      const back = createHash('sha256');
      let backBytes = 0;
      const fd = openSync(bigFile, 'r');
      const echo = await runCli([...base, '--', 'cat'], { stdin: fd, onStdout: (d) => (back.update(d), (backBytes += d.length)) });
      closeSync(fd);
      const catMs = performance.now() - t0;
      return {
        bytes: STDIN_BYTES,
        sha256: bigSha,
        catCode: echo.code,
        catBytes: backBytes,
        catSha256: back.digest('hex'),
        catStderr: echo.stderr,
        catMBps: Math.round((STDIN_BYTES / 1e6 / (catMs / 1000)) * 10) / 10,
      };
    },
    900_000,
  );

  await runCase(`exec-${t}-timeout`, async () => {
    const r = await runCli([...base, '--timeout', '1', '--', 'sh', '-c', 'echo $$; exec sleep 1000']);
    const pid = Number(r.stdout.trim());
    await waitFor(() => isGone(pid), 'the sleep to be gone', 10_000);
    return { code: r.code, stderr: r.stderr, pid, gone: isGone(pid) };
  });

  await runCase(`exec-${t}-ctrlc`, async () => {
    let child;
    let out = '';
    const trapped = runCli([...base, '--', 'sh', '-c', 'trap "echo got INT; exit 5" INT; echo ready; while :; do sleep 0.1; done'], {
      onSpawn: (c) => (child = c),
      onStdout: (d) => (out += d.toString()),
    });
    await waitFor(() => out.includes('ready'), 'the trap to be set');
    child.kill('SIGINT');
    const r1 = await trapped;
    let child2;
    let out2 = '';
    const plain = runCli([...base, '--', 'sh', '-c', 'echo $$; exec sleep 1000'], { onSpawn: (c) => (child2 = c), onStdout: (d) => (out2 += d.toString()) });
    await waitFor(() => out2.includes('\n'), 'the sleep to start');
    child2.kill('SIGINT');
    const r2 = await plain;
    const pid = Number(out2.trim());
    await waitFor(() => isGone(pid), 'the sleep to be gone', 10_000);
    return { trapCode: r1.code, trapStdout: out, plainCode: r2.code, plainGone: isGone(pid) };
  });

  await runCase(`exec-${t}-tty`, async () => {
    const r = await runCli([...base, '-t', '--', 'tty']);
    return { code: r.code, stdout: r.stdout, stderr: r.stderr };
  });

  await runCase(
    `exec-${t}-many`,
    async () => {
      // A barrier: each session waits until all 20 have started, so they provably run at once.
      const bar = mkdtempSync(join(dir, 'bar-'));
      // No forks in the loop (set -- counts the files): 20 polling shells must not starve a TCG guest.
      const script = `touch ${bar}/$0; while set -- ${bar}/*; [ $# -lt ${SESSIONS} ]; do sleep 0.5; done; echo "o$0"; echo "e$0" >&2; exit $(($0 % 7))`;
      const clients = await Promise.all(Array.from({ length: SESSIONS }, () => ExecClient.connect(connect, { timeoutScale: SCALE })));
      const results = await Promise.all(
        clients.map(async (client, i) => {
          const out = [];
          const err = [];
          const sink = (arr) => new Writable({ write: (d, _enc, cb) => (arr.push(Buffer.from(d)), cb()) });
          const status = await client.run({ argv: ['sh', '-c', script, String(i)], token: TOKEN, timeoutMs: 120_000, stdout: sink(out), stderr: sink(err) })
            .exit;
          return { i, code: status.code, out: Buffer.concat(out).toString(), err: Buffer.concat(err).toString() };
        }),
      );
      await Promise.all(clients.map((c) => c.close(500)));
      const wrong = results.filter((r) => r.code !== r.i % 7 || r.out !== `o${r.i}\n` || r.err !== `e${r.i}\n`);
      return { sessions: SESSIONS, allRight: wrong.length === 0, wrong };
    },
    180_000,
  );

  await runCase(`exec-${t}-token`, async () => {
    const wrong = await runCli(['--connect', connect, '--token-file', wrongTokenFile, '--', 'touch', join(dir, 'pwned')]);
    const none = await runCli(['--connect', connect, '--', 'true']);
    return { wrongCode: wrong.code, wrongStderr: wrong.stderr, noneCode: none.code, noneStderr: none.stderr };
  });
}

// Agent B: the defaults (only the host, CID 2). A loopback peer is CID 1: refused, on vsock and
// through the muxer (which dials CID 1 too).
await runCase('exec-allowlist', async () => {
  const strict = await startAgent(['--listen', `vsock://any:${DEFAULT_PORT}`]);
  const viaVsock = await runCli(['--connect', `vsock://1:${DEFAULT_PORT}`, '--', 'touch', join(dir, 'pwned')]);
  const viaHybrid = await runCli(['--connect', `hybrid://${join(dir, 'vmm.vsock')}:${DEFAULT_PORT}`, '--', 'true']);
  await strict.stop();
  return { vsockCode: viaVsock.code, vsockStderr: viaVsock.stderr, hybridCode: viaHybrid.code, hybridStderr: viaHybrid.stderr, agentLog: strict.log() };
});

await runCase('exec-agent-log', async () => ({ log: agent.log(), muxer: muxer.stats }));
await muxer.close();
await agent.stop();
await runCase('exec-no-leftovers', async () => ({ pwned: existsSync(join(dir, 'pwned')) }));
rmSync(dir, { recursive: true, force: true });
expectExit(NAME);

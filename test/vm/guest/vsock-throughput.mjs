// Echo throughput over vsock loopback inside the QEMU guest: this package (Node) against the
// C baseline (bench/c/vsock_echo.c, compiled on the host into test/vm/.cache/vsock_echo), same
// bytes and chunk size, in the same guest run. Writes $VM_RESULTS_DIR/vsock-throughput.json.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { assertInTestGuest, echoRoundTrip, echoWorker, expectExit, vsock, writeResult } from './vsock-common.mjs';

assertInTestGuest('vsock-throughput');
const BYTES = Number(process.env.VSOCK_BENCH_BYTES ?? 32 * 1000 * 1000);
const CHUNK = Number(process.env.VSOCK_BENCH_CHUNK ?? 64 * 1024);
const ROUNDS = Number(process.env.VSOCK_BENCH_ROUNDS ?? 2);
/**
 * Configurations compared, like with like: vsock buffer size (SO_VM_SOCKETS_BUFFER_SIZE; 0 =
 * kernel default 256 KiB) for both programs, and for Node the stream highWaterMark too.
 */
const CONFIGS = JSON.parse(
  process.env.VSOCK_BENCH_CONFIGS ??
    JSON.stringify([
      { bufferSize: 0, highWaterMark: 0 },
      { bufferSize: 1 << 20, highWaterMark: 1 << 20 },
    ]),
);
const cBin = fileURLToPath(new URL('../.cache/vsock_echo', import.meta.url));

async function nodeRound({ bufferSize, highWaterMark }) {
  // Server in a worker thread, client here: two threads, like the C program's server thread
  // and client (whose extra writer thread is what a non-blocking event loop does in one).
  const opts = { ...(bufferSize ? { bufferSize } : {}), ...(highWaterMark ? { highWaterMark } : {}) };
  const server = await echoWorker('vsock://local:any', opts);
  const c = await vsock.dial({ transport: 'vsock', cid: 1, port: server.port }, opts);
  const r = await echoRoundTrip(c, BYTES, CHUNK, { hash: false });
  await server.close();
  if (r.received !== BYTES) throw new Error(`node echo returned ${r.received} of ${BYTES} bytes`);
  return { bufferSize, highWaterMark, bytes: BYTES, seconds: r.seconds, mbps: r.mbps, MBps: r.MBps };
}

function cRound({ bufferSize }) {
  const out = execFileSync(cBin, [String(BYTES), String(CHUNK), String(bufferSize)], { encoding: 'utf8', timeout: 120_000 });
  const r = JSON.parse(out);
  if (r.error) throw new Error(`C baseline: ${r.error}`);
  return { bufferSize, ...r };
}

const result = { bytes: BYTES, chunk: CHUNK, rounds: ROUNDS, node: [], c: [] };
try {
  if (!existsSync(cBin)) throw new Error(`C baseline not built: ${cBin}`);
  // Interleave so both see the same machine state; compare like with like (same buffer size).
  for (let i = 0; i < ROUNDS; i++) {
    for (const cfg of CONFIGS) {
      result.c.push(cRound(cfg));
      result.node.push(await nodeRound(cfg));
    }
  }
  const best = (xs) => xs.reduce((a, b) => (b.mbps > a.mbps ? b : a));
  result.byConfig = CONFIGS.map((cfg, i) => {
    const n = best(result.node.filter((_, j) => j % CONFIGS.length === i));
    const c = best(result.c.filter((_, j) => j % CONFIGS.length === i));
    return { ...cfg, nodeMbps: Math.round(n.mbps), cMbps: Math.round(c.mbps), ratio: n.mbps / c.mbps };
  });
  result.nodeBest = best(result.node);
  result.cBest = best(result.c);
  // Node's best against C's best, whatever buffer size each preferred.
  result.ratio = result.nodeBest.mbps / result.cBest.mbps;
  result.ok = true;
} catch (err) {
  result.ok = false;
  result.error = String(err?.stack ?? err);
}
writeResult('vsock-throughput', result);
expectExit('vsock-throughput');

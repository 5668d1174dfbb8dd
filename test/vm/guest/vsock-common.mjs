// Shared by the vsock guest scripts (test/vm/guest/vsock-*.mjs). They run INSIDE the QEMU
// test guest only, import the BUILT package, and write JSON results to $VM_RESULTS_DIR.
import { createHash } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const vsock = await import('../../../packages/vsock/dist/index.js');

/**
 * SAFETY: real AF_VSOCK connects are only allowed in the test guest. Without vsock_loopback
 * a connect to CID 1 or 2 could reach the machine's real hypervisor, so require the guest's
 * signature: vsock_loopback and /dev/vhost-vsock present, local CID 2 (no guest transport).
 */
export function assertInTestGuest(name) {
  let cid = -1;
  try {
    cid = vsock.getLocalCid();
  } catch {
    // no /dev/vsock: not our guest
  }
  const ok = existsSync('/sys/module/vsock_loopback') && existsSync('/dev/vhost-vsock') && cid === 2 && !!process.env.VM_RESULTS_DIR;
  if (!ok) {
    const msg = `refusing to run ${name}: not in the QEMU test guest (vsock_loopback, /dev/vhost-vsock, local CID 2 = ${cid})`;
    if (process.env.VM_RESULTS_DIR) writeResult(name, { ok: false, error: msg });
    console.error(msg);
    process.exit(3);
  }
}

/**
 * Call after the last case: the process must then exit by itself (every socket, server and
 * watch released). If it is still alive after `ms`, record what holds it and exit 1, so a
 * leak fails fast instead of running into the harness timeout.
 */
export function expectExit(name, ms = 10_000) {
  setTimeout(() => {
    const handles = process._getActiveHandles().map((h) => h?.constructor?.name ?? typeof h);
    writeResult(`${name}-exit`, { ok: false, error: `process still alive ${ms} ms after the last case`, handles });
    console.error(`[${name}] still alive after the last case; handles: ${handles.join(', ')}`);
    process.exit(1);
  }, ms).unref();
}

export function writeResult(name, value) {
  writeFileSync(join(process.env.VM_RESULTS_DIR, `${name}.json`), JSON.stringify(value, null, 1));
}

/** Runs one named case with a deadline; records {ok, ...} or {ok:false, error}. */
export async function runCase(name, fn, timeoutMs = 60_000) {
  const started = performance.now();
  let timer;
  // Progress on the serial console: a hung case is then visible in the harness's console tail.
  console.error(`[${name}] start`);
  try {
    const value = await Promise.race([
      fn(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`case ${name} timed out after ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    writeResult(name, { ok: true, ms: Math.round(performance.now() - started), ...value });
    console.error(`[${name}] ok in ${Math.round(performance.now() - started)} ms`);
  } catch (err) {
    console.error(`[${name}] FAILED: ${err?.stack ?? err}`);
    writeResult(name, { ok: false, ms: Math.round(performance.now() - started), error: String(err?.stack ?? err), code: err?.code, name: err?.name });
  } finally {
    clearTimeout(timer);
  }
}

/** Deterministic pseudo-random chunk n of `size` bytes (so sender and checker agree). */
export function patternChunk(size, seed) {
  const b = Buffer.allocUnsafe(size);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < size; i += 4) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    b.writeUInt32LE(x, i);
  }
  return b;
}

/** Echo server on `address`: every connection pipes back into itself. */
export async function echoServer(address, options = {}) {
  const server = await vsock.listen(address, options);
  const sockets = [];
  server.on('connection', (s) => {
    sockets.push(s);
    s.on('error', () => {});
    s.pipe(s);
  });
  return { server, sockets };
}

/**
 * Sends `total` bytes in `chunk`-sized writes (honouring backpressure) and reads the echo,
 * hashing both directions (unless hash: false, for throughput runs). Resolves with byte counts, hashes and timing.
 */
export function echoRoundTrip(socket, total, chunk, { hash = true } = {}) {
  return new Promise((resolve, reject) => {
    const sent = createHash('sha256');
    const recv = createHash('sha256');
    let received = 0;
    const t0 = performance.now();
    socket.on('data', (d) => {
      if (hash) recv.update(d);
      received += d.length;
    });
    socket.once('end', () => {
      const seconds = (performance.now() - t0) / 1000;
      resolve({
        bytes: total,
        received,
        seconds,
        mbps: (received * 8) / 1e6 / seconds,
        MBps: received / 1e6 / seconds,
        sentSha: sent.digest('hex'),
        recvSha: recv.digest('hex'),
      });
    });
    socket.once('error', reject);
    // A handful of distinct chunks, reused: generating 100 MB of randomness would dominate.
    const chunks = Array.from({ length: 16 }, (_, i) => patternChunk(chunk, i + 1));
    let off = 0;
    let n = 0;
    const pump = () => {
      while (off < total) {
        const c = chunks[n++ % chunks.length];
        const piece = total - off < c.length ? c.subarray(0, total - off) : c;
        off += piece.length;
        if (hash) sent.update(piece);
        if (!socket.write(piece)) {
          socket.once('drain', pump);
          return;
        }
      }
      socket.end();
    };
    pump();
  });
}

/** An echo server on `address` in a worker thread; resolves with its port and a close(). */
export async function echoWorker(address, options = {}) {
  const { Worker } = await import('node:worker_threads');
  const w = new Worker(new URL('./vsock-echo-worker.mjs', import.meta.url), { workerData: { address, options } });
  const first = await new Promise((resolve, reject) => {
    w.once('message', resolve);
    w.once('error', reject);
  });
  return {
    port: first.port,
    worker: w,
    close: () =>
      new Promise((resolve, reject) => {
        w.once('message', (m) => w.terminate().then(() => resolve(m)));
        w.once('error', reject);
        w.postMessage('close');
      }),
  };
}

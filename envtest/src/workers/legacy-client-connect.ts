/**
 * The guest's `connect` thread for `envtest client --wire legacy`: a legacy trace agent talking
 * to the C++ envtest's server (default vsock://2:47916) as its own client does: messageexp
 * frames with `ts − Δt`, a clock exchange before the first event and then every 60 s. Same
 * messages to and from main as client-connect.ts. The connection is made once: the original
 * server accepts one connection per process, so there is no reconnect.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { createTraceAgent, type LegacyTraceAgent } from '@vsock-rpc/trace';
import { formatAddress, toAddress } from '@vsock-rpc/vsock';
import { ack, type HookBatch } from '../channel.js';
import { retryDelayMs } from '../connect-wait.js';
import { boundedFlush } from './bounded-flush.js';
import type { ClientConnectConfig } from './client-connect.js';

/** Dial errors worth another attempt (nothing accepted the connection, so nothing was used up). */
const RETRYABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOENT', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAGAIN', 'EHYBRIDHANDSHAKE']);

const cfg = workerData as ClientConnectConfig & { legacyWaitMs?: number };
const parent = parentPort!;
const connectAbort = new AbortController();
const onAbortConnect = (m: { type: string }) => {
  if (m.type === 'abortConnect') connectAbort.abort();
};
parent.on('message', onAbortConnect);

// The original server accepts one connection per process, so nobody may probe it: this thread
// retries its own dial (only dial failures, which used nothing up) until the wait is over.
const deadline = performance.now() + (cfg.legacyWaitMs ?? 0);
let made: LegacyTraceAgent | undefined;
for (let attempt = 1; made === undefined; attempt++) {
  try {
    made = await createTraceAgent({
      wire: 'legacy',
      connect: cfg.connect,
      name: cfg.name,
      clockSkewNs: cfg.clockSkewNs,
      maxBuffered: 200_000,
      // Every time limit scales with --timeout-scale, as the native client's do.
      connectTimeoutMs: Math.max(500, Math.min(5000 * cfg.timeoutScale, deadline - performance.now())),
      clockTimeoutMs: 10_000 * cfg.timeoutScale,
      signal: connectAbort.signal,
    });
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    const left = deadline - performance.now();
    if (connectAbort.signal.aborted || typeof code !== 'string' || !RETRYABLE.has(code) || left <= 0) {
      parent.postMessage({ type: 'error', message: (err as Error).message, code });
      process.exit(1);
    }
    const delay = Math.min(retryDelayMs(attempt), left);
    process.stderr.write(
      `envtest client: waiting for the server at ${formatAddress(toAddress(cfg.connect))} (attempt ${attempt}, retrying in ${(delay / 1000).toFixed(1)} s)\n`,
    );
    await new Promise((r) => setTimeout(r, delay));
  }
}
if (made === undefined) process.exit(1); // unreachable: the loop ends with an agent or exits
const agent: LegacyTraceAgent = made;
parent.off('message', onAbortConnect);
parent.postMessage({ type: 'ready', clock: agent.stats().clock });

let finishing = false;
cfg.port.on('message', (b: HookBatch) => {
  const n = b.ts.length;
  for (let i = 0; i < n; i++) agent.emit({ ts: b.ts[i]!, text: b.texts[i] });
  ack(cfg.port, n);
  if (b.done && !finishing) {
    finishing = true;
    void finish();
  }
});

async function finish(): Promise<void> {
  const error = await boundedFlush(() => agent.flush(), cfg.timeoutScale);
  await agent.close(5000 * cfg.timeoutScale).catch(() => {});
  parent.postMessage({ type: 'stopped', stats: { ...agent.stats(), connects: 1 }, error });
  cfg.port.removeAllListeners('message');
  cfg.port.unref();
  parent.removeAllListeners('message');
  parent.unref();
}

parent.on('message', (m: { type: string }) => {
  if (m.type === 'stats') parent.postMessage({ type: 'stats', stats: agent.stats() });
});

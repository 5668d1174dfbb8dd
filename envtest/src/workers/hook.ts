/**
 * The `hook` thread (host and guest alike): produces the original demo's events — a random
 * uppercase string stamped with the monotonic clock — at random intervals, and posts them to
 * the consumer thread in batches with a watermark.
 *
 * workerData: {@link HookConfig}. Messages in: `{ type: 'stop' }` (finish now). Out (on the
 * `port`): {@link HookBatch}es; on `parentPort`: `{ type: 'stopped', generated, dropped }`.
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { BatchSender, type AckMessage, type HookBatch } from '../channel.js';
import { nextIntervalMs, randomText } from '../random-text.js';

/** Configuration of a hook thread. */
export interface HookConfig {
  /** Where batches go. */
  port: MessagePort;
  /** Average events per second. */
  rate: number;
  /** Stop after this many events (0: no limit). */
  count: number;
  /** Stop after this many ms (0: no limit). */
  durationMs: number;
  /** Added to the monotonic clock (the engine's `clockSkewNs`, so both agree on "now"). */
  skewNs: bigint;
  /** Batching interval, ms. */
  flushMs: number;
}

const cfg = workerData as HookConfig;
const port = cfg.port;
const sender = new BatchSender(port, 500_000);
port.on('message', (m: AckMessage) => {
  if (m.type === 'ack') sender.ack(m.n);
});

const now = cfg.skewNs === 0n ? process.hrtime.bigint : () => process.hrtime.bigint() + cfg.skewNs;
const MAX_BATCH = 4096;
let ts: bigint[] = [];
let texts: string[] = [];
let generated = 0;
let stopped = false;
const started = performance.now();
let nextAt = started;
let genTimer: NodeJS.Timeout | undefined;

function post(done: boolean): void {
  const arr = BigInt64Array.from(ts);
  const batch: HookBatch = { type: 'hook', ts: arr, texts, watermark: now(), done };
  ts = [];
  texts = [];
  // A `done` batch must arrive even when the consumer is behind: it carries the end marker.
  if (!sender.send(batch, done ? 0 : arr.length, [arr.buffer as ArrayBuffer]) && done) port.postMessage(batch);
}

function stop(): void {
  if (stopped) return;
  stopped = true;
  clearTimeout(genTimer);
  clearInterval(flushTimer);
  post(true);
  const s = sender.stats();
  parentPort?.postMessage({ type: 'stopped', generated, dropped: s.dropped });
  // Let the thread end once the posted messages are on their way (close() could cut them off).
  port.removeAllListeners('message');
  port.unref();
  parentPort?.removeAllListeners('message');
  parentPort?.unref();
}

/** Generate every event that is due; each gets its own clock reading, as in the original. */
function generate(): void {
  if (stopped) return;
  const t = performance.now();
  while (nextAt <= t) {
    ts.push(now());
    texts.push(randomText());
    generated++;
    nextAt += nextIntervalMs(cfg.rate);
    if (ts.length >= MAX_BATCH) post(false);
    if (cfg.count > 0 && generated >= cfg.count) return stop();
  }
  if (cfg.durationMs > 0 && t - started >= cfg.durationMs) return stop();
  // Far behind (a stalled event loop): skip the backlog rather than burst it out all at once.
  if (t - nextAt > 1000) nextAt = t;
  genTimer = setTimeout(generate, Math.max(0, Math.min(nextAt - performance.now(), cfg.flushMs)));
}

// Batches go out on a timer, also when empty: the watermark is the consumer's heartbeat.
const flushTimer = setInterval(() => post(false), cfg.flushMs);
parentPort?.on('message', (m: { type: string }) => {
  if (m.type === 'stop') stop();
});
if (cfg.rate > 0) generate();
else if (cfg.durationMs > 0) genTimer = setTimeout(stop, cfg.durationMs);

/**
 * The `hook` thread with --ftrace (host and guest alike): opens an ftrace source (a tracefs
 * instance of its own), polls its per-CPU ring buffers every few ms, converts the events
 * (convert.ts), puts them into one timestamp order (reorder.ts) and posts them in batches with a
 * watermark, exactly like the random hook. With `rate` > 0 it also makes the random hook's
 * events, in the same order. Every second, and at the end, the reader's loss counters go into
 * the stream as `ftrace:stats` events (one per CPU that changed), so they reach the host the way
 * every event does.
 *
 * workerData: {@link FtraceHookConfig}. To main: 'ready' ({ events, instance, marker }) or
 * 'error' ({ code, message, path }) once, then 'stats' on request, 'stopped' ({@link HookStopped})
 * after the last batch. From main: 'start' (with `waitForStart`), 'stop', 'stats'.
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { FtraceSource, type FtraceStats } from '@vsock-rpc/trace';
import { escapeText } from '@vsock-rpc/wire';
import { BatchSender, type AckMessage, type HookBatch, type HookStopped } from '../channel.js';
import { afterStart, fromFtraceEvent, statsEvents, type CpuCounters, type HookEvent } from '../ftrace/convert.js';
import { Reorder } from '../ftrace/reorder.js';
import { nextIntervalMs, randomText } from '../random-text.js';

/** Configuration of an ftrace hook thread. */
export interface FtraceHookConfig {
  /** Where batches go. */
  port: MessagePort;
  /** Event specs, CLI text (`sched:sched_switch`, `irq:*`, `sched:sched_wakeup[pid>1]`). */
  events: string[];
  /** Per-CPU ring buffer, KiB (default: the source's, 4096). */
  bufferKb?: number;
  /** Random events per second as well (0: none). */
  rate: number;
  /** Stop after this many events (0: no limit). */
  count: number;
  /** Stop after this many ms (0: no limit). */
  durationMs: number;
  /** Added to every timestamp (the engine's `clockSkewNs`, as the random hook does). */
  skewNs: bigint;
  /** Poll and batching interval, ms. */
  flushMs: number;
  /**
   * Trace, but deliver nothing until main posts 'start' (a client: once connected). What the
   * kernel recorded before is read and discarded, counted as `beforeStart`: the trace begins when
   * the timeline can take it, as the random hook's does, rather than with events the host would
   * receive long after its timeline has moved past them.
   */
  waitForStart?: boolean;
}

/**
 * How far behind the poll's start the watermark stays, at first: an event is stamped when its
 * slot is reserved and readable once committed; a vCPU preempted in between (TCG, an
 * overcommitted host) commits it late. An event later still is released out of order and
 * counted, and the slack grows to twice the worst lateness seen (up to {@link MAX_SLACK_NS}), so
 * it does not happen again for as long.
 */
const INITIAL_SLACK_NS = 50_000_000n;
const MAX_SLACK_NS = 5_000_000_000n;
/** Loss counters go out this often (and at the end). */
const STATS_MS = 1000;
const MAX_BATCH = 4096;

const cfg = workerData as FtraceHookConfig;
const port = cfg.port;
const parent = parentPort!;
const sender = new BatchSender(port, 500_000);
port.on('message', (m: AckMessage) => {
  if (m.type === 'ack') sender.ack(m.n);
});
const now = cfg.skewNs === 0n ? process.hrtime.bigint : () => process.hrtime.bigint() + cfg.skewNs;

let source: FtraceSource;
try {
  source = await FtraceSource.open({
    events: cfg.events,
    ...(cfg.bufferKb !== undefined ? { bufferKb: cfg.bufferKb } : {}),
    // The reader's warnings (a skipped page, an undecodable event: once per kind) carry kernel text.
    onWarning: (m) => process.stderr.write(`envtest: ${escapeText(m)}\n`),
  });
} catch (err) {
  const e = err as Error & { code?: unknown; path?: unknown };
  parent.postMessage({ type: 'error', message: e.message, code: typeof e.code === 'string' ? e.code : undefined, path: e.path });
  process.exit(1); // ends this thread only
}
parent.postMessage({ type: 'ready', events: source.eventNames, instance: source.instancePath, marker: source.markerPath });

const reorder = new Reorder();
let slackNs = INITIAL_SLACK_NS;
const lastCounters = new Map<number, CpuCounters>();
let generated = 0;
let stopped = false;
let waiting = cfg.waitForStart === true;
let beforeStart = 0;
/** Events read and discarded before the start, per CPU. */
const skipped = new Map<number, number>();
function skip(events: readonly { cpu: number }[]): void {
  beforeStart += events.length;
  for (const e of events) skipped.set(e.cpu, (skipped.get(e.cpu) ?? 0) + 1);
}
let lastStatsAt = performance.now();
let started = performance.now();
let nextRandomAt = started;

/** Post released events, in chunks of at most MAX_BATCH, the watermark on each. */
function post(events: readonly HookEvent[], watermark: bigint, done: boolean): void {
  for (let at = 0; at < events.length || at === 0; at += MAX_BATCH) {
    const part = events.slice(at, at + MAX_BATCH);
    const last = done && at + MAX_BATCH >= events.length;
    const ts = new BigInt64Array(part.length);
    const texts = new Array<string | undefined>(part.length);
    const kinds = new Array<string>(part.length);
    const fields = new Array<HookEvent['fields']>(part.length);
    for (let i = 0; i < part.length; i++) {
      const e = part[i]!;
      ts[i] = e.ts;
      texts[i] = e.text;
      kinds[i] = e.kind;
      fields[i] = e.fields;
    }
    const batch: HookBatch = { type: 'hook', ts, texts, kinds, fields, watermark, done: last };
    // A `done` batch must arrive even when the consumer is behind: it carries the end marker.
    if (!sender.send(batch, last ? 0 : part.length, [ts.buffer as ArrayBuffer]) && last) port.postMessage(batch);
    if (events.length === 0) break;
  }
}

/** The random hook's events that are due (only with --rate). */
function randomEvents(out: HookEvent[]): void {
  if (cfg.rate <= 0) return;
  const t = performance.now();
  if (t - nextRandomAt > 1000) nextRandomAt = t; // a stalled loop skips the backlog
  while (nextRandomAt <= t) {
    out.push({ ts: now(), kind: 'message', text: randomText(), fields: undefined });
    nextRandomAt += nextIntervalMs(cfg.rate);
  }
}

/** One round: poll, convert, release what the watermark passed, post. */
function tick(): void {
  if (stopped) return;
  const t0 = now();
  const raw = source.poll();
  if (waiting) {
    skip(raw);
    return;
  }
  const fresh: HookEvent[] = new Array<HookEvent>(raw.length);
  // The newest event of each CPU read now: a CPU whose read hit the per-poll page bound has
  // older events still in the kernel, newer than this; the watermark must not pass them.
  const newest = new Map<number, bigint>();
  for (let i = 0; i < raw.length; i++) {
    const e = raw[i]!;
    fresh[i] = fromFtraceEvent(e, cfg.skewNs);
    newest.set(e.cpu, fresh[i]!.ts);
  }
  randomEvents(fresh);
  generated += fresh.length;
  reorder.push(fresh);
  let wm = t0 - slackNs;
  for (const ts of newest.values()) if (ts < wm) wm = ts;
  const { events, watermark } = reorder.release(wm);
  const lateBy = reorder.stats().maxLateNs * 2n;
  if (lateBy > slackNs) slackNs = lateBy < MAX_SLACK_NS ? lateBy : MAX_SLACK_NS;
  if (performance.now() - lastStatsAt >= STATS_MS) {
    lastStatsAt = performance.now();
    events.push(...statsEvents(afterStart(source.stats(), skipped), watermark, lastCounters));
  }
  post(events, watermark, false);
  if (cfg.count > 0 && generated >= cfg.count) void stop();
  else if (cfg.durationMs > 0 && performance.now() - started >= cfg.durationMs) void stop();
}

async function stop(): Promise<void> {
  if (stopped) return;
  stopped = true;
  clearInterval(timer);
  // close() stops tracing, drains the buffers and removes the instance.
  const rest = await source.close().catch((e: Error) => {
    process.stderr.write(`envtest: ${escapeText(e.message)}\n`);
    return [];
  });
  const fresh = waiting ? [] : rest.map((e) => fromFtraceEvent(e, cfg.skewNs));
  if (waiting) skip(rest);
  generated += fresh.length;
  reorder.push(fresh);
  const end = now();
  const { events, watermark } = reorder.releaseAll(end);
  const final: FtraceStats = afterStart(source.stats(), skipped);
  events.push(...statsEvents(final, watermark, lastCounters, true));
  post(events, watermark, true);
  const s = sender.stats();
  const msg: HookStopped = { type: 'stopped', generated, dropped: s.dropped, ftrace: final, reorderedLate: reorder.stats().late, beforeStart };
  parent.postMessage(msg);
  // Let the thread end once the posted messages are on their way (close() could cut them off).
  port.removeAllListeners('message');
  port.unref();
  parent.removeAllListeners('message');
  parent.unref();
}

const timer = setInterval(tick, cfg.flushMs);
parent.on('message', (m: { type: string }) => {
  if (m.type === 'stop') void stop();
  else if (m.type === 'start' && waiting) {
    // Whatever is still in the buffers predates the start as well.
    skip(source.poll());
    waiting = false;
    started = performance.now();
    nextRandomAt = started;
  } else if (m.type === 'stats') parent.postMessage({ type: 'stats', ftrace: source.stats(), reorder: reorder.stats() });
});

// vsock-rpc peer process "under overload" (variant: vsock-rpc/vsock-rpc-memory.ts): the client
// feeds messageexp events at twice the rate the server's consumer takes them, for a fixed time,
// through a bounded outbound queue with the 'drop-oldest' policy. The server's handler is async:
// each event's promise settles when a paced consumer gets to it (at most `consumeRate` per second,
// released in 10 ms batches), so the consumer really is half as fast as the feed, on an idle or a
// loaded machine alike. With 1024 handler promises pending the engine stops reading
// (maxPendingHandlers), the socket fills, the client's writer stalls, and its queue drops its
// oldest events and counts them. Nothing grows: the server holds at most ~1024 events plus one
// read, the client at most its queue's bounds. The server's RSS is sampled throughout; the client
// reports its drops and peak RSS.
import { ClientEngine, ServerEngine } from '@vsock-rpc/engine';
import type { PeerContext } from './peer-ipc.js';
import { address, makeWireMessages, quietEngine } from './wire-registry.js';
import { sampleRss } from './rss.js';

export interface VsockMemoryParams {
  readonly seconds: number;
  /** events per second the consumer takes; the client sends twice as many */
  readonly consumeRate: number;
  readonly sampleMs: number;
  /** the client's queue bounds */
  readonly queueEvents: number;
  readonly queueBytes: number;
}

export interface VsockMemoryServerResult {
  readonly points: Array<[number, number]>;
  /** events handed to the handler (decoded and validated) */
  readonly received: number;
  readonly consumed: number;
  /** handler promises still pending when the end marker arrived */
  readonly queued: number;
  /** consumer's rate from the first event to the end marker */
  readonly consumedPerSecond: number;
}

export interface VsockMemoryClientResult {
  readonly sent: number;
  /** dropped by the client's queue (drop-oldest; drop-newest only for an event larger than the byte bound) */
  readonly dropped: number;
  readonly sentPerSecond: number;
  /** what the server had handled when it answered the end marker */
  readonly handledAtMarker: number;
  readonly peakRssMiB: number;
}

const TICK_MS = 10;

export async function server(ctx: PeerContext<VsockMemoryParams>): Promise<VsockMemoryServerResult> {
  const { consumeRate, sampleMs } = ctx.params;
  const engine = await ServerEngine.listen(address(ctx.socketPath), quietEngine);
  // Resolvers of the pending handler promises, oldest first (array + head index: no shift()).
  let waiting: Array<() => void> = [];
  let head = 0;
  let received = 0;
  let consumed = 0;
  let tFirst = 0;
  let rss: ReturnType<typeof sampleRss> | undefined;
  engine.on('peer', () => {
    rss ??= sampleRss(sampleMs);
  });
  // The handler's promise is the point: the engine tracks it and stops reading past maxPendingHandlers.
  // eslint-disable-next-line @typescript-eslint/no-misused-promises
  engine.on('messageexp', () => {
    if (received++ === 0) tFirst = performance.now();
    return new Promise<void>((resolve) => waiting.push(resolve));
  });
  // The consumer: `consumeRate` per second, in TICK_MS batches; idle time earns at most two
  // ticks of credit, so it never catches up faster than its rate.
  let budget = 0;
  let last = performance.now();
  const consumer = setInterval(() => {
    const now = performance.now();
    budget = Math.min(budget + ((now - last) / 1000) * consumeRate, (2 * consumeRate * TICK_MS) / 1000);
    last = now;
    while (budget >= 1 && head < waiting.length) {
      waiting[head]!();
      waiting[head++] = undefined as never;
      consumed++;
      budget--;
    }
    if (head > 4096 && head * 2 > waiting.length) {
      waiting = waiting.slice(head);
      head = 0;
    }
  }, TICK_MS);
  let atMarker = { received: 0, consumed: 0, queued: 0, t: 0 };
  engine.handle('echo', (req) => {
    atMarker = { received, consumed, queued: waiting.length - head, t: performance.now() };
    return { timestamp: BigInt(received), str: req.str };
  });
  ctx.ready();
  await ctx.stopped;
  clearInterval(consumer);
  const points = rss?.stop() ?? [];
  for (let i = head; i < waiting.length; i++) waiting[i]!();
  await engine.close(1000);
  const seconds = (atMarker.t - tFirst) / 1000;
  return {
    points,
    received: atMarker.received,
    consumed: atMarker.consumed,
    queued: atMarker.queued,
    consumedPerSecond: seconds > 0 ? atMarker.consumed / seconds : 0,
  };
}

export async function client(ctx: PeerContext<VsockMemoryParams>): Promise<VsockMemoryClientResult> {
  const { seconds, consumeRate, queueEvents, queueBytes } = ctx.params;
  const feedRate = 2 * consumeRate;
  const engine = await ClientEngine.connect(address(ctx.socketPath), {
    ...quietEngine,
    clock: false,
    reconnect: false,
    queue: { maxEvents: queueEvents, maxBytes: queueBytes, policy: 'drop-oldest' },
  });
  const messages = makeWireMessages(1024);
  let sent = 0;
  let peak = 0;
  const t0 = performance.now();
  let elapsed = 0;
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      elapsed = (performance.now() - t0) / 1000;
      if (elapsed >= seconds) {
        clearInterval(timer);
        return resolve();
      }
      // catch up on late timer ticks so the average feed rate is the one asked for
      const due = Math.floor(elapsed * feedRate);
      while (sent < due) {
        const m = messages[sent & 1023]!;
        void engine.send('messageexp', { timestamp: process.hrtime.bigint(), str: m.str });
        sent++;
      }
      peak = Math.max(peak, process.memoryUsage.rss());
    }, TICK_MS);
  });
  const q = engine.queue.stats();
  const dropped = q.droppedOldest + q.droppedNewest + q.rejected;
  // What is still queued is delivered at the consumer's pace: flush, then a marker call that the
  // server answers only once it has decoded everything before it.
  await engine.flush();
  const marker = await engine.call('echo', { timestamp: 0n, str: 'END' }, { timeoutMs: 60_000 });
  await engine.close(1000);
  return { sent, dropped, sentPerSecond: sent / elapsed, handledAtMarker: Number(marker.timestamp), peakRssMiB: peak / (1024 * 1024) };
}

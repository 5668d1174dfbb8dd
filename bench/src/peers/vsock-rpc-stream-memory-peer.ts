// vsock-rpc peer process "stream with a slow consumer" (variant: vsock-rpc/vsock-rpc-stream-memory.ts):
// the client's producer offers chunks on one client-streaming `upload` (PROTOCOL.md §11) ten
// times faster than the server's consumer takes them, each write awaited, for a fixed time. The
// consumer (the handler's `for await`) is paced: it takes its next chunk only when its rate allows,
// so it grants credit back at that rate, and the producer's write() waits for it. Nothing can
// grow: the server holds at most its window (the default 256 KiB) of unread chunks, the producer
// one chunk. The server's RSS is sampled throughout; the client reports how long its writes
// waited (the producer paused) and its own peak RSS.
import { setTimeout as sleep } from 'node:timers/promises';
import { Type } from '@sinclair/typebox';
import { ClientEngine, ServerEngine } from '@vsock-rpc/engine';
import { defineRegistry } from '@vsock-rpc/wire';
import type { PeerContext } from './peer-ipc.js';
import { address } from './wire-registry.js';
import { sampleRss } from './rss.js';

const memoryStreamRegistry = defineRegistry({
  streams: {
    upload: { id: 300, mode: 'client', request: Type.Object({ data: Type.Uint8Array() }), response: Type.Object({ chunks: Type.Integer() }) },
  },
});

/** The default stream window (256 KiB) on purpose: what a user gets. */
const engineOptions = { registry: memoryStreamRegistry, logger: null, keepaliveMs: 0 } as const;

export interface StreamMemoryParams {
  readonly seconds: number;
  readonly chunkBytes: number;
  /** chunks per second the consumer takes */
  readonly consumeRate: number;
  /** chunks per second the producer offers (10 × consumeRate) */
  readonly produceRate: number;
  readonly sampleMs: number;
}

export interface StreamMemoryServerResult {
  readonly points: Array<[number, number]>;
  readonly consumed: number;
  /** consumer's rate from the first chunk to the end of the stream */
  readonly consumedPerSecond: number;
}

export interface StreamMemoryClientResult {
  /** chunks written (write() resolved) during the fixed time */
  readonly written: number;
  readonly writtenPerSecond: number;
  /** share of the fixed time the producer spent inside an awaited write(), waiting for credit */
  readonly blockedShare: number;
  /** chunks the producer's schedule offered but could not write in time (it was paused) */
  readonly behind: number;
  readonly peakRssMiB: number;
  /** what the server's handler answered: chunks it consumed */
  readonly consumedAtEnd: number;
}

export async function server(ctx: PeerContext<StreamMemoryParams>): Promise<StreamMemoryServerResult> {
  const { consumeRate, sampleMs } = ctx.params;
  const engine = await ServerEngine.listen(address(ctx.socketPath), engineOptions);
  let rss: ReturnType<typeof sampleRss> | undefined;
  let consumed = 0;
  let seconds = 0;
  engine.handleStream('upload', async (chunks) => {
    rss ??= sampleRss(sampleMs);
    const t0 = performance.now();
    for await (const c of chunks) {
      if (c.data.length !== ctx.params.chunkBytes) throw new Error(`chunk of ${c.data.length} bytes`);
      consumed++;
      // paced: the next chunk is taken no earlier than its turn at `consumeRate`
      const wait = t0 + (consumed * 1000) / consumeRate - performance.now();
      if (wait > 0) await sleep(wait);
    }
    seconds = (performance.now() - t0) / 1000;
    return { chunks: consumed };
  });
  ctx.ready();
  await ctx.stopped;
  const points = rss?.stop() ?? [];
  await engine.close(1000);
  return { points, consumed, consumedPerSecond: seconds > 0 ? consumed / seconds : 0 };
}

export async function client(ctx: PeerContext<StreamMemoryParams>): Promise<StreamMemoryClientResult> {
  const { seconds, chunkBytes, produceRate } = ctx.params;
  const engine = await ClientEngine.connect(address(ctx.socketPath), { ...engineOptions, reconnect: false, clock: false });
  const data = new Uint8Array(Buffer.alloc(chunkBytes, 'vsock-rpc slow consumer '));
  const upload = engine.openStream('upload');
  let written = 0;
  let blockedMs = 0;
  let peak = process.memoryUsage.rss();
  const t0 = performance.now();
  let now = t0;
  while (now - t0 < seconds * 1000) {
    // the producer's schedule: chunk n is due at n / produceRate; it never runs ahead of it
    const wait = t0 + (written * 1000) / produceRate - now;
    if (wait > 0) await sleep(wait);
    const tw = performance.now();
    await upload.write({ data });
    now = performance.now();
    blockedMs += now - tw;
    written++;
    if ((written & 15) === 0) peak = Math.max(peak, process.memoryUsage.rss());
  }
  const elapsed = (now - t0) / 1000;
  const due = Math.floor(elapsed * produceRate);
  await upload.end();
  const { chunks } = await upload.response;
  await engine.close(1000);
  return {
    written,
    writtenPerSecond: written / elapsed,
    blockedShare: blockedMs / (elapsed * 1000),
    behind: Math.max(0, due - written),
    peakRssMiB: Math.max(peak, process.memoryUsage.rss()) / (1024 * 1024),
    consumedAtEnd: chunks,
  };
}

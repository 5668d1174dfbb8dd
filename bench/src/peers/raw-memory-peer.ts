// Baseline peer process "memory, unbounded" (variant: baselines/raw-memory.ts): the client feeds
// messageexp events at twice the rate the server's consumer takes them, for a fixed time. The
// server reads as fast as frames arrive, decodes them and pushes them into an object-mode Readable,
// ignoring push()'s backpressure signal: the unbounded node stream buffer a naive event server ends
// up with. Its RSS is sampled throughout. The consumer is paced (not CPU-bound) so that "half the
// feed rate" holds on a loaded machine.
import { Readable } from 'node:stream';
import type { PeerContext } from './peer-ipc.js';
import { acceptOne, connect, endAndWait } from './sockets.js';
import { FrameSplitter } from './raw-frames.js';
import { encodeBatch, makeMessages, makeUnpackr } from './messageexp.js';
import { sampleRss } from './rss.js';

export interface MemoryParams {
  readonly seconds: number;
  /** events per second the consumer takes; the client sends twice as many */
  readonly consumeRate: number;
  readonly sampleMs: number;
}

export interface MemoryServerResult {
  readonly points: Array<[number, number]>;
  readonly received: number;
  readonly consumed: number;
  /** left in the queue when the feed stopped: what a bounded queue would have had to drop */
  readonly queued: number;
  readonly dropped: number;
}

const TICK_MS = 10;

export async function server(ctx: PeerContext<MemoryParams>): Promise<MemoryServerResult> {
  const { consumeRate, sampleMs } = ctx.params;
  const unpackr = makeUnpackr();
  // highWaterMark is only advisory: push() past it returns false, which is ignored on purpose
  const queue = new Readable({ objectMode: true, highWaterMark: 1024, read() {} });
  let received = 0;
  let consumed = 0;
  const splitter = new FrameSplitter((buf, start, end) => {
    queue.push(unpackr.unpack(buf.subarray(start, end)));
    received++;
  });
  const sock = await acceptOne(ctx);
  const rss = sampleRss(sampleMs);
  const t0 = performance.now();
  const consumer = setInterval(() => {
    const due = Math.floor(((performance.now() - t0) / 1000) * consumeRate);
    while (consumed < due && queue.read() !== null) consumed++;
  }, TICK_MS);
  sock.on('data', (chunk: Buffer) => splitter.push(chunk));
  await new Promise<void>((resolve, reject) => {
    sock.once('error', reject);
    sock.once('end', () => {
      sock.end();
      resolve();
    });
  });
  clearInterval(consumer);
  const points = rss.stop();
  return { points, received, consumed, queued: queue.readableLength, dropped: 0 };
}

export async function client(ctx: PeerContext<MemoryParams>): Promise<{ sent: number; peakRssMiB: number }> {
  const { seconds, consumeRate } = ctx.params;
  const feedRate = 2 * consumeRate;
  // one tick's worth of frames, pre-encoded; sending is cheap so the feed rate holds
  const perTick = Math.max(1, Math.round((feedRate * TICK_MS) / 1000));
  const one = encodeBatch(makeMessages(1024), 1);
  const batch = encodeBatch(makeMessages(1024), perTick * one.buf.length);
  const sock = await connect(ctx);
  let sent = 0;
  let peak = 0;
  const t0 = performance.now();
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const elapsed = (performance.now() - t0) / 1000;
      if (elapsed >= seconds) {
        clearInterval(timer);
        return resolve();
      }
      // catch up on late timer ticks so the average feed rate is the one asked for
      const due = Math.floor(elapsed * feedRate);
      while (sent + batch.frames <= due) {
        sock.write(batch.buf);
        sent += batch.frames;
      }
      peak = Math.max(peak, process.memoryUsage.rss());
    }, TICK_MS);
  });
  await endAndWait(sock);
  return { sent, peakRssMiB: peak / (1024 * 1024) };
}

// vsock-rpc peer process "one-way events" (variants: vsock-rpc/vsock-rpc-oneway.ts): `messageexp`
// for the events workload, `blob` (raw bytes) for the bandwidth workloads. The client encodes every
// event with the engine's codec (schema checked on the way out), queues it under the 'block' policy
// and awaits only when send() returns a promise (the queue is full); the engine batches the frames
// into writev calls. The server decodes and validates every event (compiled TypeBox check) and
// dispatches it to a handler, which counts. The end is marked by an `echo` call sent after flush():
// the server handles it after every event before it (one byte stream, decoded in order), so its
// handling time ends the window.
import { ClientEngine, ServerEngine } from '@vsock-rpc/engine';
import type { PeerContext } from './peer-ipc.js';
import { address, makeWireMessages, quietEngine } from './wire-registry.js';
import { nowNs, PhasedDeadline, type RateResult } from './timing.js';

export interface VsockOnewayParams {
  readonly message: 'messageexp' | 'blob';
  /** events (blobs) */
  readonly count: number;
  readonly seconds: number;
  readonly warmup: number;
  /** blob payload size; ignored for messageexp */
  readonly chunkBytes: number;
}

export interface VsockOnewayServerResult extends RateResult {
  /** every event handled, warm-up included */
  readonly frames: number;
  /** payload bytes of every blob handled (0 for messageexp) */
  readonly totalBytes: number;
}

export interface VsockOnewayClientResult {
  readonly sent: number;
  readonly sentBytes: number;
  /** what the server said it had handled when it answered the end marker */
  readonly handledAtMarker: number;
}

export async function server(ctx: PeerContext<VsockOnewayParams>): Promise<VsockOnewayServerResult> {
  const { warmup: w, message } = ctx.params;
  const warmup = Math.max(1, w);
  const engine = await ServerEngine.listen(address(ctx.socketPath), quietEngine);
  let frames = 0;
  let payloadBytes = 0;
  let t0 = 0n;
  let tEnd = 0n;
  let wireBytes0 = 0;
  let payload0 = 0;
  const wireBytesIn = (): number => engine.peers()[0]?.stats().bytesIn ?? 0;
  const onWarm = (): void => {
    t0 = nowNs();
    wireBytes0 = wireBytesIn();
    payload0 = payloadBytes;
  };
  if (message === 'messageexp') {
    engine.on('messageexp', () => {
      if (++frames === warmup) onWarm();
    });
  } else {
    engine.on('blob', (v) => {
      payloadBytes += v.data.length;
      if (++frames === warmup) onWarm();
    });
  }
  let wireBytesEnd = 0;
  engine.handle('echo', (req) => {
    tEnd = nowNs();
    wireBytesEnd = wireBytesIn();
    return { timestamp: BigInt(frames), str: req.str };
  });
  ctx.ready();
  await ctx.stopped;
  await engine.close(1000);
  if (frames <= warmup || tEnd === 0n) throw new Error(`only ${frames} events arrived, warm-up is ${warmup}`);
  const seconds = Number(tEnd - t0) / 1e9;
  // messageexp: bytes on the wire (frame headers included), like the raw baseline's frame bytes;
  // blob: payload bytes delivered to the handler, the figure a user gets.
  const bytes = message === 'blob' ? payloadBytes - payload0 : wireBytesEnd - wireBytes0;
  return { count: frames - warmup, bytes, seconds, frames, totalBytes: payloadBytes };
}

export async function client(ctx: PeerContext<VsockOnewayParams>): Promise<VsockOnewayClientResult> {
  const { count, seconds, warmup, message, chunkBytes } = ctx.params;
  const engine = await ClientEngine.connect(address(ctx.socketPath), {
    ...quietEngine,
    clock: false,
    reconnect: false,
    queue: { policy: 'block' },
  });
  const target = count + warmup;
  const deadline = new PhasedDeadline(seconds, warmup);
  let sent = 0;
  if (message === 'messageexp') {
    const messages = makeWireMessages(1024);
    while (sent < target) {
      const m = messages[sent & 1023]!;
      // a fresh timestamp per event, as a tracing agent would stamp it (as the naive pipeline does)
      const r = engine.send('messageexp', { timestamp: process.hrtime.bigint(), str: m.str });
      sent++;
      if (r) {
        await r;
        if (deadline.expired(sent)) break;
      } else if ((sent & 1023) === 0 && deadline.expired(sent)) break;
    }
  } else {
    // Non-zero content so nothing on the path can take a shortcut on zero pages.
    const data = Buffer.alloc(chunkBytes, 'vsock-rpc bandwidth ');
    while (sent < target) {
      const r = engine.send('blob', { data });
      sent++;
      if (r) await r;
      if (deadline.expired(sent)) break;
    }
  }
  await engine.flush();
  const marker = await engine.call('echo', { timestamp: 0n, str: 'END' }, { timeoutMs: 60_000 });
  await engine.close(2000);
  return { sent, sentBytes: message === 'blob' ? sent * chunkBytes : 0, handledAtMarker: Number(marker.timestamp) };
}

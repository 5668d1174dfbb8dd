// vsock-rpc peer process "stream of chunks" (variant: vsock-rpc/vsock-rpc-stream.ts): the client
// opens one client-streaming `upload` (PROTOCOL.md §11) and writes chunks of raw bytes back to
// back, each write awaited (it resolves when the server's credit admits it); the server's handler
// reads them with `for await`, counting payload bytes, and answers the total at the end.
import { Type } from '@sinclair/typebox';
import { ClientEngine, ServerEngine } from '@vsock-rpc/engine';
import { defineRegistry } from '@vsock-rpc/wire';
import type { PeerContext } from './peer-ipc.js';
import type { BandwidthParams, BandwidthServerResult } from './raw-bandwidth-peer.js';
import { address } from './wire-registry.js';
import { nowNs, PhasedDeadline } from './timing.js';

export const streamBenchRegistry = defineRegistry({
  streams: {
    upload: { id: 300, mode: 'client', request: Type.Object({ data: Type.Uint8Array() }), response: Type.Object({ bytes: Type.Number() }) },
  },
});

/** A window of 4 MiB: enough chunks in flight that credit never waits on a round trip here. */
const engineOptions = { registry: streamBenchRegistry, logger: null, keepaliveMs: 0, streamWindow: 4 * 1024 * 1024 } as const;

export async function server(ctx: PeerContext<BandwidthParams>): Promise<BandwidthServerResult> {
  const warmupBytes = Math.max(1, ctx.params.warmup * ctx.params.chunkBytes);
  const engine = await ServerEngine.listen(address(ctx.socketPath), engineOptions);
  let result: (r: BandwidthServerResult) => void = () => {};
  let fail: (e: Error) => void = () => {};
  const done = new Promise<BandwidthServerResult>((resolve, reject) => {
    result = resolve;
    fail = reject;
  });
  engine.handleStream('upload', async (chunks) => {
    let total = 0;
    let t0 = 0n;
    let tLast = 0n;
    let bytes0 = 0;
    for await (const c of chunks) {
      total += c.data.length;
      tLast = nowNs();
      if (t0 === 0n && total >= warmupBytes) {
        t0 = tLast;
        bytes0 = total;
      }
    }
    if (t0 === 0n || tLast === t0) fail(new Error(`only ${total} bytes arrived, warm-up is ${warmupBytes}`));
    const bytes = total - bytes0;
    result({ count: bytes / ctx.params.chunkBytes, bytes, seconds: Number(tLast - t0) / 1e9, totalBytes: total });
    return { bytes: total };
  });
  ctx.ready();
  try {
    return await done;
  } finally {
    await engine.close(1000);
  }
}

export async function client(ctx: PeerContext<BandwidthParams>): Promise<{ sentBytes: number }> {
  const { chunkBytes, count, seconds, warmup } = ctx.params;
  const data = new Uint8Array(Buffer.alloc(chunkBytes, 'vsock-rpc bandwidth '));
  const engine = await ClientEngine.connect(address(ctx.socketPath), { ...engineOptions, reconnect: false, clock: false });
  const upload = engine.openStream('upload');
  const deadline = new PhasedDeadline(seconds, warmup);
  let sent = 0;
  while (sent < count + warmup && !deadline.expired(sent)) {
    await upload.write({ data });
    sent++;
  }
  await upload.end();
  const { bytes } = await upload.response;
  await engine.close(1000);
  return { sentBytes: bytes === sent * chunkBytes ? bytes : -1 };
}

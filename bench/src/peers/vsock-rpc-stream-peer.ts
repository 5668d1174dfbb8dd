// vsock-rpc peer process "stream of chunks" (variants: vsock-rpc/vsock-rpc-stream.ts), in one of
// two directions (PROTOCOL.md §11):
// - 'upload' (client streaming): the client writes chunks of raw bytes back to back, each write
//   awaited (it resolves when the server's credit admits it); the server's handler reads them
//   with `for await`, counting payload bytes, and answers the total at the end.
// - 'download' (server streaming): the client opens `download`; the server's handler writes the
//   chunks back to back through its stream, each write awaited; the client reads them with
//   `for await`, counting payload bytes. The same data as grpc-js server streaming
//   (peers/grpc-server-stream-peer.ts).
// Either way the receiver measures.
import { Type } from '@sinclair/typebox';
import { ClientEngine, ServerEngine } from '@vsock-rpc/engine';
import { defineRegistry } from '@vsock-rpc/wire';
import type { PeerContext } from './peer-ipc.js';
import type { BandwidthParams, BandwidthServerResult } from './raw-bandwidth-peer.js';
import { address } from './wire-registry.js';
import { nowNs, PhasedDeadline } from './timing.js';

const Chunk = Type.Object({ data: Type.Uint8Array() });

export const streamBenchRegistry = defineRegistry({
  streams: {
    upload: { id: 300, mode: 'client', request: Chunk, response: Type.Object({ bytes: Type.Number() }) },
    download: { id: 301, mode: 'server', request: Type.Object({}), response: Chunk },
  },
});

export interface StreamBandwidthParams extends BandwidthParams {
  readonly direction: 'upload' | 'download';
}

/** A window of 4 MiB: enough chunks in flight that credit never waits on a round trip here. */
export const STREAM_BENCH_WINDOW = 4 * 1024 * 1024;
const engineOptions = { registry: streamBenchRegistry, logger: null, keepaliveMs: 0, streamWindow: STREAM_BENCH_WINDOW } as const;

/** Counts payload bytes at the receiver, warm-up excluded. */
class ReceiveMeter {
  total = 0;
  private t0 = 0n;
  private tLast = 0n;
  private bytes0 = 0;
  constructor(
    private readonly warmupBytes: number,
    private readonly chunkBytes: number,
  ) {}
  add(n: number): void {
    this.total += n;
    this.tLast = nowNs();
    if (this.t0 === 0n && this.total >= this.warmupBytes) {
      this.t0 = this.tLast;
      this.bytes0 = this.total;
    }
  }
  result(): BandwidthServerResult {
    if (this.t0 === 0n || this.tLast === this.t0) throw new Error(`only ${this.total} bytes arrived, warm-up is ${this.warmupBytes}`);
    const bytes = this.total - this.bytes0;
    return { count: bytes / this.chunkBytes, bytes, seconds: Number(this.tLast - this.t0) / 1e9, totalBytes: this.total };
  }
}

const meterFor = (p: BandwidthParams): ReceiveMeter => new ReceiveMeter(Math.max(1, p.warmup * p.chunkBytes), p.chunkBytes);
const chunkOf = (chunkBytes: number): Uint8Array => new Uint8Array(Buffer.alloc(chunkBytes, 'vsock-rpc bandwidth '));

/** 'upload': the server's result is what it received; 'download': what it sent. */
export type StreamServerResult = BandwidthServerResult | { readonly sentBytes: number };
export type StreamClientResult = { readonly sentBytes: number } | BandwidthServerResult;

export async function server(ctx: PeerContext<StreamBandwidthParams>): Promise<StreamServerResult> {
  const { chunkBytes, count, seconds, warmup } = ctx.params;
  const engine = await ServerEngine.listen(address(ctx.socketPath), engineOptions);
  let result: (r: StreamServerResult) => void = () => {};
  let fail: (e: Error) => void = () => {};
  const done = new Promise<StreamServerResult>((resolve, reject) => {
    result = resolve;
    fail = reject;
  });
  engine.handleStream('upload', async (chunks) => {
    const meter = meterFor(ctx.params);
    for await (const c of chunks) meter.add(c.data.length);
    try {
      result(meter.result());
    } catch (e) {
      fail(e as Error);
    }
    return { bytes: meter.total };
  });
  engine.handleStream('download', async (_req, stream) => {
    const data = chunkOf(chunkBytes);
    const deadline = new PhasedDeadline(seconds, warmup);
    let sent = 0;
    try {
      while (sent < count + warmup && !deadline.expired(sent)) {
        await stream.write({ data });
        sent++;
      }
    } catch (e) {
      fail(e as Error);
      throw e;
    }
    result({ sentBytes: sent * chunkBytes });
  });
  ctx.ready();
  try {
    const r = await done;
    // a download's handler is done before the client has read everything: wait for the client
    if (ctx.params.direction === 'download') await ctx.stopped;
    return r;
  } finally {
    await engine.close(1000);
  }
}

export async function client(ctx: PeerContext<StreamBandwidthParams>): Promise<StreamClientResult> {
  const { chunkBytes, count, seconds, warmup } = ctx.params;
  const engine = await ClientEngine.connect(address(ctx.socketPath), { ...engineOptions, reconnect: false, clock: false });
  try {
    if (ctx.params.direction === 'download') {
      const meter = meterFor(ctx.params);
      for await (const c of engine.openStream('download', {})) meter.add(c.data.length);
      return meter.result();
    }
    const data = chunkOf(chunkBytes);
    const upload = engine.openStream('upload');
    const deadline = new PhasedDeadline(seconds, warmup);
    let sent = 0;
    while (sent < count + warmup && !deadline.expired(sent)) {
      await upload.write({ data });
      sent++;
    }
    await upload.end();
    const { bytes } = await upload.response;
    return { sentBytes: bytes === sent * chunkBytes ? bytes : -1 };
  } finally {
    await engine.close(1000);
  }
}

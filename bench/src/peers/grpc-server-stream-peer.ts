// Baseline peer process "grpc-js server streaming" (variant: baselines/grpc-server-stream.ts):
// the client makes one server-streaming Download call; the server writes raw chunks (protobuf
// `bytes`) back to back, honouring the call's backpressure (write() false → wait for 'drain'),
// and the client counts payload bytes as they arrive. The same data as the vsock-rpc server
// stream (peers/vsock-rpc-stream-peer.ts, direction 'download').
import type * as grpc from '@grpc/grpc-js';
import { once } from 'node:events';
import type { PeerContext } from './peer-ipc.js';
import { connectGrpc, loadBenchService, startGrpcServer, type ProtoChunk } from './grpc-proto.js';
import type { BandwidthParams, BandwidthServerResult } from './raw-bandwidth-peer.js';
import { nowNs, PhasedDeadline } from './timing.js';

export async function server(ctx: PeerContext<BandwidthParams>): Promise<{ sentBytes: number }> {
  const { chunkBytes, count, seconds, warmup } = ctx.params;
  const svc = loadBenchService(ctx.tmpDir, 'server');
  // Non-zero content so nothing on the path can take a shortcut on zero pages.
  const data = Buffer.alloc(chunkBytes, 'vsock-rpc bandwidth ');
  let sentBytes = 0;
  let fail: (e: Error) => void = () => {};
  const failed = new Promise<never>((_, reject) => (fail = reject));
  const server = await startGrpcServer(ctx.socketPath, svc, {
    Download: (call: grpc.ServerWritableStream<unknown, ProtoChunk>) => {
      call.once('error', fail);
      void (async () => {
        const deadline = new PhasedDeadline(seconds, warmup);
        let sent = 0;
        while (sent < count + warmup && !deadline.expired(sent) && !call.cancelled) {
          const more = call.write({ data });
          sent++;
          if (!more) await once(call, 'drain');
        }
        sentBytes = sent * chunkBytes;
        call.end();
      })().catch(fail);
    },
  });
  ctx.ready();
  // server streaming has no end at this side: the parent says when the client is done
  await Promise.race([ctx.stopped, failed]);
  server.forceShutdown();
  return { sentBytes };
}

export async function client(ctx: PeerContext<BandwidthParams>): Promise<BandwidthServerResult> {
  const warmupBytes = Math.max(1, ctx.params.warmup * ctx.params.chunkBytes);
  const svc = loadBenchService(ctx.tmpDir, 'client');
  const grpcClient = await connectGrpc(ctx.socketPath, svc);
  const call = grpcClient.Download({});
  let total = 0;
  let t0 = 0n;
  let tLast = 0n;
  let bytes0 = 0;
  try {
    return await new Promise<BandwidthServerResult>((resolve, reject) => {
      call.on('data', (c: ProtoChunk) => {
        total += c.data.length;
        tLast = nowNs();
        if (t0 === 0n && total >= warmupBytes) {
          t0 = tLast;
          bytes0 = total;
        }
      });
      call.once('error', reject);
      call.once('end', () => {
        if (t0 === 0n || tLast === t0) return reject(new Error(`only ${total} bytes arrived, warm-up is ${warmupBytes}`));
        const bytes = total - bytes0;
        resolve({ count: bytes / ctx.params.chunkBytes, bytes, seconds: Number(tLast - t0) / 1e9, totalBytes: total });
      });
    });
  } finally {
    grpcClient.close();
  }
}

// Baseline variant "grpc-js server streaming" of the server-stream workload: one server-streaming
// call of raw chunks (protobuf bytes). Its peer process: peers/grpc-server-stream-peer.ts.
import type { BandwidthParams, BandwidthServerResult } from '../peers/raw-bandwidth-peer.js';
import { bandwidthSample } from '../peer-samples.js';
import type { Variant } from '../workload-contract.js';

export function grpcServerStream(chunkBytes: number): Variant<'rate'> {
  return {
    name: 'grpc-js',
    description: `one server-streaming call over unix:// (rpc Download returns (stream Chunk), proto-loader), ${chunkBytes / 1024} KiB protobuf bytes per message, the server honouring the call's backpressure (write() false → 'drain'); the client counts payload bytes`,
    baseline: true,
    quickReps: 1,
    async run(ctx) {
      const params: BandwidthParams = { ...ctx.limits, chunkBytes };
      const r = await ctx.runPeers<{ sentBytes: number }, BandwidthServerResult>({ impl: 'grpc-server-stream', params: { ...params } });
      if (r.client.totalBytes !== r.server.sentBytes) {
        throw new Error(`grpc server stream: client received ${r.client.totalBytes} payload bytes, server sent ${r.server.sentBytes}`);
      }
      return bandwidthSample(r.client);
    },
  };
}

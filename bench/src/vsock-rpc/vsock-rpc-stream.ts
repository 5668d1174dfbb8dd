// vsock-rpc variant of the stream workloads: one client-streaming call of raw chunks, with credit
// per stream (PROTOCOL.md §11). Its peer process: peers/vsock-rpc-stream-peer.ts.
import type { BandwidthParams, BandwidthServerResult } from '../peers/raw-bandwidth-peer.js';
import { bandwidthSample } from '../peer-samples.js';
import type { Variant } from '../workload-contract.js';

export function vsockRpcStream(chunkBytes: number): Variant<'rate'> {
  return {
    name: 'vsock-rpc stream',
    description: `client.openStream('upload') (client streaming), ${chunkBytes / 1024} KiB Uint8Array chunks, each write awaited (credit-based flow control, 4 MiB window); the handler reads them with for await and counts payload bytes`,
    async run(ctx) {
      const params: BandwidthParams = { ...ctx.limits, chunkBytes };
      const r = await ctx.runPeers<BandwidthServerResult, { sentBytes: number }>({ impl: 'vsock-rpc-stream', params: { ...params } });
      if (r.server.totalBytes !== r.client.sentBytes) {
        throw new Error(`stream: server received ${r.server.totalBytes} payload bytes, client sent ${r.client.sentBytes}`);
      }
      return bandwidthSample(r.server);
    },
  };
}

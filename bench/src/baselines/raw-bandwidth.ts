// Baseline variant "raw socket" of the bandwidth workloads: large chunks back to back, bytes
// counted. Its peer process: peers/raw-bandwidth-peer.ts.
import type { BandwidthParams, BandwidthServerResult } from '../peers/raw-bandwidth-peer.js';
import type { Variant } from '../workload-contract.js';
import { bandwidthSample } from '../peer-samples.js';

export function rawBandwidth(chunkBytes: number): Variant<'rate'> {
  return {
    name: 'raw socket',
    description: `${chunkBytes / 1024} KiB chunks written back to back; the server counts bytes`,
    baseline: true,
    async run(ctx) {
      const params: BandwidthParams = { ...ctx.limits, chunkBytes };
      const r = await ctx.runPeers<BandwidthServerResult, { sentBytes: number }>({ impl: 'raw-bandwidth', params: { ...params } });
      if (r.server.totalBytes !== r.client.sentBytes) {
        throw new Error(`bandwidth: server received ${r.server.totalBytes} bytes, client sent ${r.client.sentBytes}`);
      }
      return bandwidthSample(r.server);
    },
  };
}

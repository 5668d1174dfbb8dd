// vsock-rpc variants of the stream workloads, with credit per stream (PROTOCOL.md §11): one
// client-streaming call of raw chunks (next to the raw socket and the event path), and one
// server-streaming call of the same chunks (next to grpc-js server streaming). Their peer
// process: peers/vsock-rpc-stream-peer.ts.
import type { BandwidthServerResult } from '../peers/raw-bandwidth-peer.js';
import type { StreamBandwidthParams, StreamClientResult, StreamServerResult } from '../peers/vsock-rpc-stream-peer.js';
import { bandwidthSample } from '../peer-samples.js';
import type { Variant } from '../workload-contract.js';

const received = (r: StreamServerResult | StreamClientResult): BandwidthServerResult => {
  if (!('totalBytes' in r)) throw new Error('stream: the receiving peer returned no measurement');
  return r;
};
const sentBytes = (r: StreamServerResult | StreamClientResult): number => {
  if (!('sentBytes' in r)) throw new Error('stream: the sending peer returned no byte count');
  return r.sentBytes;
};

export function vsockRpcStream(chunkBytes: number): Variant<'rate'> {
  return {
    name: 'vsock-rpc stream',
    description: `client.openStream('upload') (client streaming), ${chunkBytes / 1024} KiB Uint8Array chunks, each write awaited (credit-based flow control, 4 MiB window); the handler reads them with for await and counts payload bytes`,
    async run(ctx) {
      const params: StreamBandwidthParams = { ...ctx.limits, chunkBytes, direction: 'upload' };
      const r = await ctx.runPeers<StreamServerResult, StreamClientResult>({ impl: 'vsock-rpc-stream', params: { ...params } });
      const server = received(r.server);
      if (server.totalBytes !== sentBytes(r.client)) {
        throw new Error(`stream: server received ${server.totalBytes} payload bytes, client sent ${sentBytes(r.client)}`);
      }
      return bandwidthSample(server);
    },
  };
}

export function vsockRpcServerStream(chunkBytes: number): Variant<'rate'> {
  return {
    name: 'vsock-rpc server stream',
    description: `client.openStream('download', {}) (server streaming): the handler writes ${chunkBytes / 1024} KiB Uint8Array chunks through its stream, each write awaited (credit-based flow control, 4 MiB window); the client reads them with for await and counts payload bytes`,
    async run(ctx) {
      const params: StreamBandwidthParams = { ...ctx.limits, chunkBytes, direction: 'download' };
      const r = await ctx.runPeers<StreamServerResult, StreamClientResult>({ impl: 'vsock-rpc-stream', params: { ...params } });
      const client = received(r.client);
      if (client.totalBytes !== sentBytes(r.server)) {
        throw new Error(`server stream: client received ${client.totalBytes} payload bytes, server sent ${sentBytes(r.server)}`);
      }
      return bandwidthSample(client);
    },
  };
}

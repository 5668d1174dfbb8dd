// vsock-rpc variants of the one-way workloads: messageexp events (events/s) and blob events
// (bandwidth), through ClientEngine.send → ServerEngine handler. Their peer process:
// peers/vsock-rpc-oneway-peer.ts.
import type { VsockOnewayClientResult, VsockOnewayParams, VsockOnewayServerResult } from '../peers/vsock-rpc-oneway-peer.js';
import { bandwidthSample, expectSameCount, rateSample } from '../peer-samples.js';
import type { Variant } from '../workload-contract.js';

export const vsockRpcEvents: Variant<'rate'> = {
  name: 'vsock-rpc',
  description:
    "ClientEngine.send('messageexp') per event (schema check + msgpack encode, bounded queue with the 'block' policy, awaited only when send() returns a promise), batched writev framing; the ServerEngine decodes, validates (compiled TypeBox) and dispatches each event to a handler",
  async run(ctx) {
    const params: VsockOnewayParams = { ...ctx.limits, message: 'messageexp', chunkBytes: 0 };
    const r = await ctx.runPeers<VsockOnewayServerResult, VsockOnewayClientResult>({ impl: 'vsock-rpc-oneway', params: { ...params } });
    expectSameCount('vsock-rpc events', r.server.frames, r.client.sent);
    expectSameCount('vsock-rpc events (at the end marker)', r.client.handledAtMarker, r.client.sent);
    return rateSample(r.server);
  },
};

export function vsockRpcBandwidth(chunkBytes: number): Variant<'rate'> {
  return {
    name: 'vsock-rpc',
    description: `ClientEngine.send('blob', { data: ${chunkBytes / 1024} KiB Uint8Array }) back to back ('block' policy); the payload goes as its own writev chunk behind the frame header; the server decodes, validates and hands each blob to a handler, which counts payload bytes`,
    async run(ctx) {
      const params: VsockOnewayParams = { ...ctx.limits, message: 'blob', chunkBytes };
      const r = await ctx.runPeers<VsockOnewayServerResult, VsockOnewayClientResult>({ impl: 'vsock-rpc-oneway', params: { ...params } });
      expectSameCount('vsock-rpc blobs', r.server.frames, r.client.sent);
      if (r.server.totalBytes !== r.client.sentBytes) {
        throw new Error(`bandwidth: server received ${r.server.totalBytes} payload bytes, client sent ${r.client.sentBytes}`);
      }
      return bandwidthSample(r.server);
    },
  };
}

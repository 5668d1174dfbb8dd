// Baseline variant "grpc-js" of the one-way events workload: one client-streaming call
// (protobuf). Its peer process: peers/grpc-stream-peer.ts.
import type { OnewayClientResult, OnewayParams } from '../peers/raw-oneway-peer.js';
import type { ReceiveResult } from '../peers/receive.js';
import type { Variant } from '../workload-contract.js';
import { expectSameCount, rateSample } from '../peer-samples.js';

export const grpcStream: Variant<'rate'> = {
  name: 'grpc-js',
  description: "one client-streaming call over unix:// carrying protobuf MessageExp (proto-loader, int64 as string), honouring the call's backpressure",
  baseline: true,
  quickReps: 1,
  async run(ctx) {
    // grpc-js moves tens of thousands of messages per second here, not millions: a warm-up sized
    // for the raw path would eat the whole time window.
    const params: OnewayParams = { ...ctx.limits, warmup: Math.min(ctx.limits.warmup, 2_000), batchBytes: 0 };
    const r = await ctx.runPeers<ReceiveResult, OnewayClientResult>({ impl: 'grpc-stream', params: { ...params } });
    expectSameCount('grpc-js stream', r.server.frames, r.client.sent);
    return rateSample(r.server);
  },
};

// vsock-rpc variants of the round-trip workloads: the `echo` method of exampleRegistry. Their
// peer process: peers/vsock-rpc-calls-peer.ts.
import type { RateResult } from '../peers/timing.js';
import type { LatencyResult } from '../peers/latency-histogram.js';
import type { RoundTripParams } from '../peers/round-trip-loop.js';
import { callRateSample, latencySample } from '../peer-samples.js';
import type { Variant } from '../workload-contract.js';

export const vsockRpcLatency: Variant<'latency'> = {
  name: 'vsock-rpc',
  description: "sequential ClientEngine.call('echo', messageexp): request and response both schema-checked and msgpack-coded, one call outstanding",
  async run(ctx) {
    const params: RoundTripParams = { ...ctx.limits, inflight: 1 };
    const r = await ctx.runPeers<unknown, LatencyResult | RateResult>({ impl: 'vsock-rpc-calls', params: { ...params } });
    return latencySample(r.client);
  },
};

export function vsockRpcConcurrent(inflight: number): Variant<'rate'> {
  return {
    name: 'vsock-rpc',
    description: `${inflight} ClientEngine.call('echo') loops kept in flight on one connection`,
    async run(ctx) {
      const params: RoundTripParams = { ...ctx.limits, inflight };
      const r = await ctx.runPeers<unknown, LatencyResult | RateResult>({ impl: 'vsock-rpc-calls', params: { ...params } });
      return callRateSample(r.client);
    },
  };
}

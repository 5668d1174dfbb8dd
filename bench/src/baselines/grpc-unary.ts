// Baseline variants "grpc-js" of the round-trip workloads: unary Echo calls (protobuf). Their
// peer process: peers/grpc-unary-peer.ts.
import type { RateResult } from '../peers/timing.js';
import type { LatencyResult } from '../peers/latency-histogram.js';
import type { RoundTripParams } from '../peers/round-trip-loop.js';
import type { Variant } from '../workload-contract.js';
import { callRateSample, latencySample } from '../peer-samples.js';

export const grpcUnary: Variant<'latency'> = {
  name: 'grpc-js',
  description: 'sequential unary Echo calls of one MessageExp over unix://',
  baseline: true,
  quickReps: 1,
  async run(ctx) {
    const params: RoundTripParams = { ...ctx.limits, inflight: 1 };
    const r = await ctx.runPeers<unknown, LatencyResult | RateResult>({ impl: 'grpc-unary', params: { ...params } });
    return latencySample(r.client);
  },
};

export function grpcConcurrent(inflight: number): Variant<'rate'> {
  return {
    name: 'grpc-js',
    description: `${inflight} unary Echo calls kept in flight on one channel`,
    baseline: true,
    quickReps: 1,
    async run(ctx) {
      const params: RoundTripParams = { ...ctx.limits, inflight };
      const r = await ctx.runPeers<unknown, LatencyResult | RateResult>({ impl: 'grpc-unary', params: { ...params } });
      return callRateSample(r.client);
    },
  };
}

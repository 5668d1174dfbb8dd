// Baseline variants "raw socket" of the round-trip workloads: one small frame echoed by the
// server. Their peer process: peers/raw-pingpong-peer.ts.
import type { RateResult } from '../peers/timing.js';
import type { LatencyResult } from '../peers/latency-histogram.js';
import type { RoundTripParams } from '../peers/round-trip-loop.js';
import type { Variant } from '../workload-contract.js';
import { callRateSample, latencySample } from '../peer-samples.js';

export const rawPingPong: Variant<'latency'> = {
  name: 'raw socket',
  description: 'one pre-encoded messageexp frame, echoed; the next request leaves when the reply is in',
  baseline: true,
  async run(ctx) {
    const params: RoundTripParams = { ...ctx.limits, inflight: 1 };
    const r = await ctx.runPeers<unknown, LatencyResult | RateResult>({ impl: 'raw-pingpong', params: { ...params } });
    return latencySample(r.client);
  },
};

export function rawPipelined(inflight: number): Variant<'rate'> {
  return {
    name: 'raw socket',
    description: `${inflight} echo requests kept outstanding on one socket`,
    baseline: true,
    async run(ctx) {
      const params: RoundTripParams = { ...ctx.limits, inflight };
      const r = await ctx.runPeers<unknown, LatencyResult | RateResult>({ impl: 'raw-pingpong', params: { ...params } });
      return callRateSample(r.client);
    },
  };
}

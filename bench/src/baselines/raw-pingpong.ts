// Variants "raw socket" of the round-trip workloads: one small frame echoed by the server.
import type { RateResult } from '../peers/clock.js';
import type { LatencyResult } from '../peers/latency.js';
import type { PingPongParams } from '../peers/raw-pingpong.js';
import type { Variant } from '../workload.js';
import { callRateSample, latencySample } from './checks.js';

export const rawPingPong: Variant<'latency'> = {
  name: 'raw socket',
  description: 'one pre-encoded messageexp frame, echoed; the next request leaves when the reply is in',
  baseline: true,
  async run(ctx) {
    const params: PingPongParams = { ...ctx.limits, inflight: 1 };
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
      const params: PingPongParams = { ...ctx.limits, inflight };
      const r = await ctx.runPeers<unknown, LatencyResult | RateResult>({ impl: 'raw-pingpong', params: { ...params } });
      return callRateSample(r.client);
    },
  };
}

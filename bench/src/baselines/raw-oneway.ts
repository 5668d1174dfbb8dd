// Baseline variant "raw socket" of the one-way events workload: pre-encoded frames, split only.
// Its peer process: peers/raw-oneway-peer.ts.
import type { OnewayClientResult, OnewayParams } from '../peers/raw-oneway-peer.js';
import type { ReceiveResult } from '../peers/receive.js';
import type { Variant } from '../workload-contract.js';
import { expectSameCount, rateSample } from '../peer-samples.js';

export const rawOneway: Variant<'rate'> = {
  name: 'raw socket',
  description: 'pre-encoded length-prefixed messageexp frames in 256 KiB writes; the server only splits frames (the ceiling for Node)',
  baseline: true,
  async run(ctx) {
    const params: OnewayParams = { ...ctx.limits, batchBytes: 256 * 1024 };
    const r = await ctx.runPeers<ReceiveResult, OnewayClientResult>({ impl: 'raw-oneway', params: { ...params } });
    expectSameCount('raw one-way', r.server.frames, r.client.sent);
    return rateSample(r.server);
  },
};

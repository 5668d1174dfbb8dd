// Baseline variant "naive pipeline" of the one-way events workload: msgpackr + length prefix +
// batched writes, server unpacks and validates with a compiled TypeBox checker. Its peer
// process: peers/naive-pipeline-peer.ts.
import type { NaiveServerResult } from '../peers/naive-pipeline-peer.js';
import type { OnewayClientResult, OnewayParams } from '../peers/raw-oneway-peer.js';
import type { Variant } from '../workload-contract.js';
import { expectSameCount, rateSample } from '../peer-samples.js';

export const naivePipeline: Variant<'rate'> = {
  name: 'naive pipeline',
  description:
    'msgpackr pack per event + 4-byte length prefix, 64 KiB batched writes; the server splits, unpacks and checks each event with a compiled TypeBox checker',
  baseline: true,
  async run(ctx) {
    const params: OnewayParams = { ...ctx.limits, batchBytes: 64 * 1024 };
    const r = await ctx.runPeers<NaiveServerResult, OnewayClientResult>({ impl: 'naive-pipeline', params: { ...params } });
    expectSameCount('naive pipeline', r.server.frames, r.client.sent);
    if (r.server.invalid > 0) throw new Error(`${r.server.invalid} events failed schema validation`);
    return rateSample(r.server);
  },
};

// Baseline variant "raw socket, unbounded" of the memory workload: what memory does when nothing
// bounds the inbound queue. The vsock-rpc variant (bounded queue, counted drops) is set against
// it. Its peer process: peers/raw-memory-peer.ts.
import type { MemoryParams, MemoryServerResult } from '../peers/raw-memory-peer.js';
import { rssGrowth } from '../stats.js';
import type { Variant } from '../workload-contract.js';

export function rawUnboundedMemory(consumeRate: number): Variant<'series'> {
  return {
    name: 'raw socket, unbounded',
    description: `fed ${2 * consumeRate} events/s, consumer takes ${consumeRate}/s; decoded events wait in an object-mode Readable whose push() backpressure is ignored`,
    baseline: true,
    async run(ctx) {
      const params: MemoryParams = { seconds: ctx.limits.seconds, consumeRate, sampleMs: ctx.quick ? 50 : 100 };
      const r = await ctx.runPeers<MemoryServerResult, { sent: number; peakRssMiB: number }>({ impl: 'raw-memory', params: { ...params } });
      if (r.server.received !== r.client.sent) {
        throw new Error(`memory: server received ${r.server.received}, client sent ${r.client.sent}`);
      }
      const peak = Math.max(...r.server.points.map((p) => p[1]));
      return {
        kind: 'series',
        points: r.server.points,
        value: peak,
        valueLabel: 'peak server RSS',
        extra: {
          'events sent': r.client.sent,
          'queued at end': r.server.queued,
          dropped: r.server.dropped,
          'client peak RSS MiB': r.client.peakRssMiB,
          'RSS growth 2nd half MiB': rssGrowth(r.server.points),
          'fed /s': r.client.sent / params.seconds,
          'consumed /s': r.server.consumed / params.seconds,
        },
      };
    },
  };
}

// vsock-rpc variant "vsock-rpc, bounded" of the memory workload: the client's queue drops its
// oldest events when the slow server stops reading; drops are counted and reported with the RSS
// series. Its peer process: peers/vsock-rpc-memory-peer.ts.
import type { VsockMemoryClientResult, VsockMemoryParams, VsockMemoryServerResult } from '../peers/vsock-rpc-memory-peer.js';
import { rssGrowth } from '../stats.js';
import type { Variant } from '../workload-contract.js';

/** The client's queue: 4096 events or 256 KiB, whichever is reached first. */
const QUEUE_EVENTS = 4096;
const QUEUE_BYTES = 256 * 1024;

export function vsockRpcBoundedMemory(consumeRate: number): Variant<'series'> {
  return {
    name: 'vsock-rpc, bounded',
    description:
      `fed ${2 * consumeRate} events/s by ClientEngine.send with queue { maxEvents: ${QUEUE_EVENTS}, maxBytes: ${QUEUE_BYTES / 1024} KiB, policy: 'drop-oldest' }; ` +
      `the server's async handler settles each event when a paced consumer (${consumeRate}/s in 10 ms batches) takes it, so the engine stops reading at 1024 pending handlers and the client's queue drops (and counts) its oldest events`,
    async run(ctx) {
      const params: VsockMemoryParams = {
        seconds: ctx.limits.seconds,
        consumeRate,
        sampleMs: ctx.quick ? 50 : 100,
        queueEvents: QUEUE_EVENTS,
        queueBytes: QUEUE_BYTES,
      };
      const r = await ctx.runPeers<VsockMemoryServerResult, VsockMemoryClientResult>({ impl: 'vsock-rpc-memory', params: { ...params } });
      const delivered = r.client.sent - r.client.dropped;
      if (r.client.handledAtMarker !== delivered || r.server.received !== delivered) {
        throw new Error(`memory: client sent ${r.client.sent} and dropped ${r.client.dropped}, but the server handled ${r.server.received}`);
      }
      if (r.server.points.length < 4) throw new Error(`memory: only ${r.server.points.length} RSS samples`);
      const peak = Math.max(...r.server.points.map((p) => p[1]));
      return {
        kind: 'series',
        points: r.server.points,
        value: peak,
        valueLabel: 'peak server RSS',
        extra: {
          'events sent': r.client.sent,
          'queued at end': r.server.queued,
          dropped: r.client.dropped,
          'client peak RSS MiB': r.client.peakRssMiB,
          'RSS growth 2nd half MiB': rssGrowth(r.server.points),
          'fed /s': r.client.sentPerSecond,
          'consumed /s': r.server.consumedPerSecond,
        },
      };
    },
  };
}

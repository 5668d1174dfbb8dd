// vsock-rpc variant of the slow-consumer stream workload: a producer offering chunks 10× faster
// than the consumer takes them, held back by the stream's credit (PROTOCOL.md §11); the server's
// RSS series and how long the producer was paused. Its peer process: peers/vsock-rpc-stream-memory-peer.ts.
import type { StreamMemoryClientResult, StreamMemoryParams, StreamMemoryServerResult } from '../peers/vsock-rpc-stream-memory-peer.js';
import { rssGrowth } from '../stats.js';
import type { Variant } from '../workload-contract.js';

export function vsockRpcSlowConsumerStream(chunkBytes: number, consumeRate: number, slowdown: number): Variant<'series'> {
  return {
    name: 'vsock-rpc stream',
    description:
      `client.openStream('upload'): the producer offers ${slowdown * consumeRate} chunks/s of ${chunkBytes / 1024} KiB (each write awaited), ` +
      `the handler's for await takes ${consumeRate}/s (paced); default stream window (256 KiB), so the producer's write() waits for the consumer's credit`,
    async run(ctx) {
      const params: StreamMemoryParams = {
        seconds: ctx.limits.seconds,
        chunkBytes,
        consumeRate,
        produceRate: slowdown * consumeRate,
        sampleMs: ctx.quick ? 50 : 100,
      };
      const r = await ctx.runPeers<StreamMemoryServerResult, StreamMemoryClientResult>({ impl: 'vsock-rpc-stream-memory', params: { ...params } });
      if (r.client.consumedAtEnd !== r.client.written || r.server.consumed !== r.client.written) {
        throw new Error(
          `stream memory: client wrote ${r.client.written} chunks, the server consumed ${r.server.consumed} (answered ${r.client.consumedAtEnd})`,
        );
      }
      if (r.server.points.length < 4) throw new Error(`stream memory: only ${r.server.points.length} RSS samples`);
      const peak = Math.max(...r.server.points.map((p) => p[1]));
      return {
        kind: 'series',
        points: r.server.points,
        value: peak,
        valueLabel: 'peak consumer RSS',
        extra: {
          'offered /s': params.produceRate,
          'written /s': r.client.writtenPerSecond,
          'consumed /s': r.server.consumedPerSecond,
          'producer paused %': 100 * r.client.blockedShare,
          'chunks held back': r.client.behind,
          'RSS growth 2nd half MiB': rssGrowth(r.server.points),
          'producer peak RSS MiB': r.client.peakRssMiB,
        },
      };
    },
  };
}

// Every workload of the suite, in report order. The vsock-rpc variants are added to the
// `variants` lists here (baseline: false), next to the baselines they are compared with.
import { grpcStream } from './baselines/grpc-stream.js';
import { grpcConcurrent, grpcUnary } from './baselines/grpc-unary.js';
import { naivePipeline } from './baselines/naive-pipeline.js';
import { rawBandwidth } from './baselines/raw-bandwidth.js';
import { rawUnboundedMemory } from './baselines/raw-memory.js';
import { rawOneway } from './baselines/raw-oneway.js';
import { rawPingPong, rawPipelined } from './baselines/raw-pingpong.js';
import type { AnyWorkload, Workload } from './workload.js';

// Limits: full runs give each measurement ~2 s (enough for stable medians and >1000 samples for
// p99.9); quick runs ~0.3 s, which is mostly process start-up and only good for "does it work".

const events: Workload<'rate'> = {
  name: 'events',
  title: 'One-way small events (messageexp)',
  description:
    'The client sends messageexp events ({ts: int64, text: 1..65 uppercase chars}, msgpack) as fast as the path allows; the server counts what it fully received. Measured at the receiver, warm-up excluded.',
  kind: 'rate',
  unit: 'events/s',
  higherIsBetter: true,
  placements: ['unpinned'],
  limits: {
    full: { count: 5_000_000, seconds: 2, warmup: 50_000 },
    quick: { count: 1_000_000, seconds: 0.3, warmup: 10_000 },
  },
  variants: [rawOneway, naivePipeline, grpcStream],
};

function bandwidth(name: string, chunkBytes: number, label: string): Workload<'rate'> {
  return {
    name,
    title: `Bandwidth, ${label} messages`,
    description: `Large payloads of ${label} streamed one way; MB/s is 10^6 bytes per second at the receiver, warm-up excluded.`,
    kind: 'rate',
    unit: 'MB/s',
    higherIsBetter: true,
    placements: ['unpinned'],
    limits: {
      full: { count: Math.ceil((32 * 1024 ** 3) / chunkBytes), seconds: 1.5, warmup: Math.ceil((16 * 1024 ** 2) / chunkBytes) },
      quick: { count: Math.ceil((4 * 1024 ** 3) / chunkBytes), seconds: 0.3, warmup: Math.ceil((4 * 1024 ** 2) / chunkBytes) },
    },
    variants: [rawBandwidth(chunkBytes)],
  };
}

const latency: Workload<'latency'> = {
  name: 'latency',
  title: 'Round-trip latency, small message',
  description:
    'Sequential request/response of one messageexp; one request outstanding at a time. Figures are µs per round trip from the client\'s send to its receipt of the reply.',
  kind: 'latency',
  unit: 'µs',
  higherIsBetter: false,
  placements: ['same-cpu', 'across-cpus'],
  limits: {
    full: { count: 20_000, seconds: 2, warmup: 1_000 },
    quick: { count: 3_000, seconds: 0.3, warmup: 200 },
  },
  variants: [rawPingPong, grpcUnary],
};

const concurrent: Workload<'rate'> = {
  name: 'concurrent',
  title: '64 concurrent in-flight calls',
  description: 'Request/response with 64 requests outstanding at all times on one connection; completed calls per second at the client.',
  kind: 'rate',
  unit: 'calls/s',
  higherIsBetter: true,
  placements: ['unpinned'],
  limits: {
    full: { count: 500_000, seconds: 2, warmup: 2_000 },
    quick: { count: 100_000, seconds: 0.3, warmup: 500 },
  },
  variants: [rawPipelined(64), grpcConcurrent(64)],
};

/** Consumer rate of the memory workload; the feed is twice this. */
const CONSUME_RATE = 50_000;

const memory: Workload<'series'> = {
  name: 'memory',
  title: 'Memory under overload (fed 2× faster than consumed)',
  description: `The server\'s consumer takes ${CONSUME_RATE} events/s while the client feeds ${2 * CONSUME_RATE}/s for a fixed time; server RSS is sampled throughout. The table shows peak server RSS.`,
  kind: 'series',
  unit: 'MiB',
  higherIsBetter: false,
  placements: ['unpinned'],
  limits: {
    full: { count: 2 * CONSUME_RATE * 30, seconds: 30, warmup: 0 },
    quick: { count: 2 * CONSUME_RATE * 5, seconds: 5, warmup: 0 },
  },
  variants: [rawUnboundedMemory(CONSUME_RATE)],
};

export const workloads: readonly AnyWorkload[] = [events, bandwidth('bandwidth-64k', 64 * 1024, '64 KiB'), bandwidth('bandwidth-1m', 1024 * 1024, '1 MiB'), latency, concurrent, memory];

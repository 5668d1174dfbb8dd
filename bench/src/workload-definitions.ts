// The workload definitions: every workload of the suite, in report order (the types are in
// workload-contract.ts). Each `variants` list puts the baselines (baselines/, baseline: true)
// next to the vsock-rpc variants (vsock-rpc/) they are compared with in the same run.
import { grpcServerStream } from './baselines/grpc-server-stream.js';
import { grpcStream } from './baselines/grpc-stream.js';
import { grpcConcurrent, grpcUnary } from './baselines/grpc-unary.js';
import { naivePipeline } from './baselines/naive-pipeline.js';
import { rawBandwidth } from './baselines/raw-bandwidth.js';
import { rawUnboundedMemory } from './baselines/raw-memory.js';
import { rawOneway } from './baselines/raw-oneway.js';
import { rawPingPong, rawPipelined } from './baselines/raw-pingpong.js';
import { vsockRpcBandwidth, vsockRpcEvents } from './vsock-rpc/vsock-rpc-oneway.js';
import { vsockRpcConcurrent, vsockRpcLatency } from './vsock-rpc/vsock-rpc-calls.js';
import { vsockRpcBoundedMemory } from './vsock-rpc/vsock-rpc-memory.js';
import { vsockRpcServerStream, vsockRpcStream } from './vsock-rpc/vsock-rpc-stream.js';
import { vsockRpcSlowConsumerStream } from './vsock-rpc/vsock-rpc-stream-memory.js';
import { CLOCK_LOAD_RATE, clockVariants } from './vsock-rpc/clock-variants.js';
import { codecVariants } from './vsock-rpc/codec-variants.js';
import { VSOCK_CHUNK, vsockVariants } from './vsock-rpc/vsock-variants.js';
import { guestUnavailable } from './vm/guest.js';
import { ftraceGuestUnavailable } from './vm/ftrace-guest.js';
import { FTRACE_BUFFER_KB, ftraceVariants } from './vm/ftrace-variants.js';
import type { AnyWorkload, Workload } from './workload-contract.js';

// Limits: full runs give each measurement ~1 s (enough for stable medians and thousands of
// samples for p99.9, and a whole run of a few minutes); quick runs ~0.2 s, which is mostly
// process start-up and only good for "does it work".

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
    full: { count: 5_000_000, seconds: 1, warmup: 50_000 },
    quick: { count: 1_000_000, seconds: 0.2, warmup: 10_000 },
  },
  variants: [rawOneway, naivePipeline, grpcStream, vsockRpcEvents],
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
      full: { count: Math.ceil((32 * 1024 ** 3) / chunkBytes), seconds: 1, warmup: Math.ceil((16 * 1024 ** 2) / chunkBytes) },
      quick: { count: Math.ceil((4 * 1024 ** 3) / chunkBytes), seconds: 0.2, warmup: Math.ceil((4 * 1024 ** 2) / chunkBytes) },
    },
    variants: [rawBandwidth(chunkBytes), vsockRpcBandwidth(chunkBytes)],
  };
}

/** A stream of chunks (PROTOCOL.md §11) against the raw socket and the event path, same run. */
function streamBandwidth(name: string, chunkBytes: number, label: string): Workload<'rate'> {
  return {
    ...bandwidth(name, chunkBytes, label),
    title: `Stream of ${label} chunks`,
    description: `One vsock-rpc stream carrying ${label} chunks one way with credit-based flow control, next to the raw socket and to the same chunks as events; MB/s is 10^6 bytes per second at the receiver, warm-up excluded.`,
    variants: [rawBandwidth(chunkBytes), vsockRpcBandwidth(chunkBytes), vsockRpcStream(chunkBytes)],
  };
}

/** Server streaming (PROTOCOL.md §11) against grpc-js server streaming of the same chunks. */
function serverStream(name: string, chunkBytes: number, label: string): Workload<'rate'> {
  return {
    ...bandwidth(name, chunkBytes, label),
    title: `Server streaming of ${label} chunks, vs grpc-js`,
    description: `One server-streaming call carrying ${label} chunks from the server to the client, vsock-rpc against grpc-js (protobuf bytes over unix://), with the raw socket as the ceiling; MB/s is 10^6 bytes per second at the receiver (the client), warm-up excluded.`,
    variants: [rawBandwidth(chunkBytes), grpcServerStream(chunkBytes), vsockRpcServerStream(chunkBytes)],
  };
}

/** The slow-consumer stream: chunk size, the consumer's rate (chunks/s) and how much faster the producer is. */
const SLOW_CHUNK = 64 * 1024;
const SLOW_CONSUME_RATE = 160;
const SLOWDOWN = 10;

const streamMemory: Workload<'series'> = {
  name: 'stream-memory',
  title: `Memory of a stream whose consumer is ${SLOWDOWN}× slower than its producer`,
  description: `One client stream of ${SLOW_CHUNK / 1024} KiB chunks: the producer offers ${(SLOWDOWN * SLOW_CONSUME_RATE).toLocaleString('en-US')} chunks/s (${((SLOWDOWN * SLOW_CONSUME_RATE * SLOW_CHUNK) / 1e6).toFixed(0)} MB/s), awaiting each write; the server's consumer takes ${SLOW_CONSUME_RATE}/s (${((SLOW_CONSUME_RATE * SLOW_CHUNK) / 1e6).toFixed(1)} MB/s, paced) for a fixed time; the consumer's RSS is sampled throughout. The table shows peak consumer RSS, its growth over the run's second half (median of the last quarter − median of the second quarter: about 0 when flat), the rates offered, written and consumed, and the share of the time the producer spent paused in write() waiting for credit.`,
  kind: 'series',
  unit: 'MiB',
  higherIsBetter: false,
  placements: ['unpinned'],
  reps: { full: 3, quick: 1 },
  limits: {
    full: { count: 0, seconds: 10, warmup: 0 },
    quick: { count: 0, seconds: 3, warmup: 0 },
  },
  variants: [vsockRpcSlowConsumerStream(SLOW_CHUNK, SLOW_CONSUME_RATE, SLOWDOWN)],
  chart: { yLabel: 'consumer RSS' },
};

const latency: Workload<'latency'> = {
  name: 'latency',
  title: 'Round-trip latency, small message',
  description:
    "Sequential request/response of one messageexp; one request outstanding at a time. Figures are µs per round trip from the client's send to its receipt of the reply.",
  kind: 'latency',
  unit: 'µs',
  higherIsBetter: false,
  placements: ['same-cpu', 'across-cpus'],
  quickPlacements: ['same-cpu'],
  limits: {
    full: { count: 50_000, seconds: 1, warmup: 1_000 },
    quick: { count: 3_000, seconds: 0.2, warmup: 200 },
  },
  variants: [rawPingPong, grpcUnary, vsockRpcLatency],
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
    full: { count: 500_000, seconds: 1, warmup: 2_000 },
    quick: { count: 100_000, seconds: 0.2, warmup: 500 },
  },
  variants: [rawPipelined(64), grpcConcurrent(64), vsockRpcConcurrent(64)],
};

/** Consumer rate of the memory workload; the feed is twice this. */
const CONSUME_RATE = 50_000;

const memory: Workload<'series'> = {
  name: 'memory',
  title: 'Memory under overload (fed 2× faster than consumed)',
  description: `The server's consumer takes ${CONSUME_RATE} events/s (paced in 10 ms batches, so it is half as fast as the feed on an idle and a loaded machine alike) while the client feeds ${2 * CONSUME_RATE}/s for a fixed time; server RSS is sampled throughout. The table shows peak server RSS, the RSS growth over the run's second half (median of the last quarter − median of the second quarter: about 0 when flat), what the client dropped, and the rates achieved.`,
  kind: 'series',
  unit: 'MiB',
  higherIsBetter: false,
  placements: ['unpinned'],
  reps: { full: 3, quick: 1 },
  limits: {
    full: { count: 2 * CONSUME_RATE * 10, seconds: 10, warmup: 0 },
    quick: { count: 2 * CONSUME_RATE * 3, seconds: 3, warmup: 0 },
  },
  variants: [rawUnboundedMemory(CONSUME_RATE), vsockRpcBoundedMemory(CONSUME_RATE)],
  chart: { yLabel: 'server RSS' },
};

const clock: Workload<'series'> = {
  name: 'clock',
  title: 'Clock offset error, idle and under load',
  description: `The server engine's clock is shifted by exactly +5 s (clockSkewNs), so every offset estimate's error is known. Per sync round the methods run interleaved (rotating order) on one connection, first idle, then while the client streams ${CLOCK_LOAD_RATE.toLocaleString('en-US')} messageexp events/s on the same connection (after 1 s to reach steady state). Headline: p99 of |error| under load; the chart shows |error| under load over time (the repetition with the median p99).`,
  kind: 'series',
  unit: 'µs',
  higherIsBetter: false,
  placements: ['unpinned'],
  reps: { full: 2, quick: 1 },
  // count = syncs per phase, warmup = unrecorded syncs; seconds bounds the whole run (hard deadline)
  limits: {
    full: { count: 600, seconds: 40, warmup: 200 },
    quick: { count: 100, seconds: 15, warmup: 60 },
  },
  variants: clockVariants,
  chart: { yLabel: '|estimated − true offset| under load', logY: true },
};

const codec: Workload<'rate'> = {
  name: 'codec',
  title: 'Codec + framing, in one process',
  description:
    "messageexp values ({timestamp: int64, str: 1..65 chars}) through the whole wire path in one process, against msgpackr alone; no sockets. Measured in the suite's own process, variants alternating repetition by repetition.",
  kind: 'rate',
  unit: 'messages/s',
  higherIsBetter: true,
  placements: ['unpinned'],
  limits: {
    // count unused: each measurement runs for `seconds`
    full: { count: 0, seconds: 1, warmup: 0 },
    quick: { count: 0, seconds: 0.25, warmup: 0 },
  },
  variants: codecVariants,
};

const vsock: Workload<'rate'> = {
  name: 'vsock',
  title: 'vsock loopback echo inside the QEMU guest',
  description: `One TCG guest (test/vm/harness.ts) runs test/vm/guest/vsock-throughput.mjs: bytes echoed over AF_VSOCK loopback (CID 1) in ${VSOCK_CHUNK / 1024} KiB writes, by Node through @vsock-rpc/vsock and by the C program bench/c/vsock_echo.c, rounds interleaved in the same guest. MB/s is echoed bytes per second (each byte crosses twice). Under TCG every figure is far below a real VM's; only the Node ÷ C ratio carries over. AF_VSOCK is never opened on the host.`,
  kind: 'rate',
  unit: 'MB/s',
  higherIsBetter: true,
  placements: ['unpinned'],
  reps: { full: 3, quick: 1 },
  // count = bytes echoed per round; seconds = the guest's whole-run limit
  limits: {
    full: { count: 32_000_000, seconds: 300, warmup: 0 },
    quick: { count: 8_000_000, seconds: 120, warmup: 0 },
  },
  variants: vsockVariants,
  unavailable: async (quick, selected) => {
    if (quick && !selected) return 'not part of --quick (a TCG guest boot alone costs ~5 s of both cores); `--quick --only vsock` or a full run measures it';
    return guestUnavailable();
  },
};

const ftrace: Workload<'rate'> = {
  name: 'ftrace',
  title: 'ftrace: envtest --ftrace against trace-cmd record inside the QEMU guest',
  description: `One TCG guest; at each load level (two processes ping-ponging a byte over pipes, paced or unpaced) \`trace-cmd record\` and \`envtest server --ftrace\` record sched:sched_switch at the same time, each in its own buffer (${FTRACE_BUFFER_KB} KiB per CPU; 8 KiB at the last level), envtest also exporting JSON Lines as trace-cmd writes its file. events/s = sched_switch events each captured stamped within the load (CLOCK_MONOTONIC window), ÷ its seconds; lost = what that reader lost: the kernel's per-CPU stats for its buffer (overrun + commit overrun + dropped; column "lost in kernel"), plus envtest's own counted drops (its summary's \`dropped\`: an export writer that fell behind); CPU s = user + system seconds of the reader's whole process tree during the load (and, apart, over its whole run, start-up included). Goal (issue 14): where trace-cmd loses nothing envtest loses nothing, and where both lose, envtest loses no more.`,
  kind: 'rate',
  unit: 'events/s',
  higherIsBetter: true,
  placements: ['unpinned'],
  reps: { full: 1, quick: 1 },
  // count = seconds of load per level; seconds = the guest's whole-run limit
  limits: {
    full: { count: 5, seconds: 420, warmup: 0 },
    quick: { count: 4, seconds: 420, warmup: 0 },
  },
  variants: ftraceVariants,
  unavailable: async (quick, selected) => {
    if (quick && !selected) return 'not part of --quick (one TCG guest boot); `--quick --only ftrace` or a full run measures it';
    return ftraceGuestUnavailable() ?? guestUnavailable();
  },
};

export const workloads: readonly AnyWorkload[] = [
  events,
  bandwidth('bandwidth-64k', 64 * 1024, '64 KiB'),
  bandwidth('bandwidth-1m', 1024 * 1024, '1 MiB'),
  streamBandwidth('stream-64k', 64 * 1024, '64 KiB'),
  streamBandwidth('stream-1m', 1024 * 1024, '1 MiB'),
  serverStream('server-stream-64k', 64 * 1024, '64 KiB'),
  streamMemory,
  latency,
  concurrent,
  memory,
  clock,
  codec,
  vsock,
  ftrace,
];

// Every variant of the clock workload, vsock-rpc's and its baseline (peer process:
// peers/clock-peer.ts, from the clock bench): the offset of a server whose engine clock is skewed
// by exactly +5 s, estimated idle and while the client streams 100 000 messageexp events/s on the
// same connection, so every estimate's error is known. One peer run measures all methods,
// interleaved sync by sync (so they see the same conditions); each variant reports its own method
// from that shared run.
import type { ClockClientParams, ClockClientResult, ClockPoint, ClockServerParams } from '../peers/clock-peer.js';
import { nearestRank } from '../stats.js';
import type { RunContext, SeriesSample, Variant } from '../workload-contract.js';

const SKEW_NS = 5_000_000_000n;
export const CLOCK_LOAD_RATE = 100_000;
const SAMPLES = 8;

type Method = 'adaptive' | 'fixed' | 'single';

// One peer run per repetition, shared by the variants of that repetition.
const shared = new Map<string, Promise<ClockClientResult>>();

function clockRun(ctx: RunContext): Promise<ClockClientResult> {
  const key = `${ctx.quick}/${ctx.reps}/${ctx.rep}/${ctx.placement}`;
  let p = shared.get(key);
  if (!p) {
    const params: ClockServerParams & ClockClientParams = {
      skewNs: SKEW_NS.toString(),
      trueOffsetNs: (-SKEW_NS).toString(),
      syncs: ctx.limits.count,
      samples: SAMPLES,
      rate: CLOCK_LOAD_RATE,
      gapMs: 5,
      warmup: ctx.limits.warmup,
    };
    p = ctx.runPeers<unknown, ClockClientResult>({ impl: 'clock', params: { ...params } }).then((r) => r.client);
    shared.set(key, p);
  }
  return p;
}

const errorsUs = (points: readonly ClockPoint[]): number[] => points.map((p) => Math.abs(p.errorNs) / 1000).sort((a, b) => a - b);

export function clockSample(r: ClockClientResult, method: Method): SeriesSample {
  const idle = errorsUs(r.idle[method]);
  const load = errorsUs(r.load[method]);
  if (idle.length === 0 || load.length === 0) throw new Error(`clock: no ${method} estimates`);
  const within = r.load[method].filter((p) => Math.abs(p.errorNs) <= p.boundNs).length / r.load[method].length;
  return {
    kind: 'series',
    points: r.load[method].map((p) => [p.tMs / 1000, Math.abs(p.errorNs) / 1000] as const),
    value: nearestRank(load, 0.99),
    valueLabel: 'p99 |error| under load',
    extra: {
      'idle p50 µs': nearestRank(idle, 0.5),
      'idle p99 µs': nearestRank(idle, 0.99),
      'load p50 µs': nearestRank(load, 0.5),
      'load within bound %': within * 100,
      'load events/s': r.eventsSent / r.loadSeconds,
    },
  };
}

function variant(name: string, method: Method, description: string, baseline = false): Variant<'series'> {
  return {
    name,
    description,
    ...(baseline ? { baseline } : {}),
    async run(ctx) {
      return clockSample(await clockRun(ctx), method);
    },
  };
}

export const clockVariants: ReadonlyArray<Variant<'series'>> = [
  variant(
    'vsock-rpc ClockSync',
    'adaptive',
    `ClockSync.sync(): adaptive burst of ${SAMPLES}–${4 * SAMPLES} exchanges on the urgent lane, minimum-delay sample kept`,
  ),
  variant('vsock-rpc syncClock, burst of 8', 'fixed', `syncClock() with a fixed burst of ${SAMPLES}, minimum-delay sample kept`),
  variant('single exchange', 'single', "the original's method: one clock exchange taken as is", true),
];

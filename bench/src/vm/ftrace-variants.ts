// The ftrace workload's variants: at every load level, envtest's reader and trace-cmd's, both
// measured in the same guest run at the same time (vm/ftrace-guest.ts). One guest boot per suite
// run measures every level; repetition k of a variant is boot k. The figure is sched_switch
// events captured per second of load; `lost` is what the kernel says that reader lost; the
// ratios are envtest ÷ trace-cmd in the same run.
import type { RunContext, Variant } from '../workload-contract.js';
import { runFtraceGuest, type FtraceLevel, type FtraceLevelResult } from './ftrace-guest.js';

/** 64 KiB per CPU: small, so that a reader that falls behind loses events; the last level has 8 KiB (2 pages), so that both lose. */
export const FTRACE_BUFFER_KB = 64;
export const FTRACE_LEVELS: readonly FtraceLevel[] = [
  { label: '1k round trips/s', roundTripsPerSecond: 1000, bufferKb: FTRACE_BUFFER_KB },
  { label: 'unpaced', roundTripsPerSecond: 0, bufferKb: FTRACE_BUFFER_KB },
  { label: 'unpaced, 8 KiB buffers', roundTripsPerSecond: 0, bufferKb: 8 },
];

let shared: { key: string; result: Promise<FtraceLevelResult[]>[] } | undefined;

function guestRun(ctx: RunContext): Promise<FtraceLevelResult[]> {
  const key = `${ctx.quick}/${ctx.reps}`;
  if (shared?.key !== key) shared = { key, result: [] };
  const runs = shared.result;
  runs[ctx.rep - 1] ??= runFtraceGuest({ levels: FTRACE_LEVELS, seconds: ctx.limits.count, timeoutMs: ctx.limits.seconds * 1000 });
  return runs[ctx.rep - 1]!;
}

function variant(reader: 'envtest' | 'traceCmd', level: number): Variant<'rate'> {
  const l = FTRACE_LEVELS[level]!;
  return {
    name: `${reader === 'envtest' ? 'envtest --ftrace' : 'trace-cmd record'}, ${l.label}`,
    description:
      reader === 'envtest'
        ? `envtest server --ftrace sched:sched_switch --ftrace-buffer-kb ${l.bufferKb} --export FILE.jsonl (hook thread polls trace_pipe_raw every 5 ms, converts, merges, writes JSON Lines)`
        : `trace-cmd record -C mono -b ${l.bufferKb} -e sched:sched_switch (splice per CPU into a file), same load, same time`,
    ...(reader === 'traceCmd' ? { baseline: true } : {}),
    async run(ctx) {
      const r = (await guestRun(ctx))[level]!;
      const me = r[reader];
      const other = r[reader === 'envtest' ? 'traceCmd' : 'envtest'];
      const extra: Record<string, number> = {
        lost: me.lost,
        'lost in kernel': me.kernelLost,
        'CPU s': me.cpuSeconds,
        'CPU s, whole run': me.processCpuSeconds,
        'load round trips/s': r.roundTrips / r.seconds,
      };
      if (reader === 'envtest') {
        extra['events ÷ trace-cmd'] = other.events > 0 ? me.events / other.events : 0;
        extra['CPU ÷ trace-cmd'] = other.cpuSeconds > 0 ? me.cpuSeconds / other.cpuSeconds : 0;
      }
      return { kind: 'rate', value: me.events / r.seconds, count: me.events, seconds: r.seconds, extra };
    },
  };
}

export const ftraceVariants: ReadonlyArray<Variant<'rate'>> = FTRACE_LEVELS.flatMap((_, i) => [variant('envtest', i), variant('traceCmd', i)]);

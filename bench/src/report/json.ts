// --json FILE: every figure and every raw sample (histograms in HdrHistogram compressed base64,
// nanoseconds; series points), so results can be re-analysed without re-running.
import type { MachineInfo } from '../machine.js';
import { percentiles } from './latency-percentiles.js';
import type { WorkloadSummary } from './summary.js';

export function renderJson(summaries: readonly WorkloadSummary[], machine: MachineInfo, command: string, quick: boolean): string {
  const doc = {
    generatedBy: command,
    quick,
    machine,
    workloads: summaries.map((s) => {
      const w = s.result.workload;
      return {
        name: w.name,
        title: w.title,
        kind: w.kind,
        unit: w.unit,
        headline: s.headline,
        higherIsBetter: w.higherIsBetter,
        placements: s.result.placements,
        reps: s.result.reps,
        notes: s.result.notes,
        baselines: s.baselines,
        rows: s.rows,
        runs: s.result.runs.map((r) => ({
          ...r,
          ...(r.sample?.kind === 'latency' ? { percentilesUs: percentiles(r.sample.histogram) } : {}),
        })),
      };
    }),
  };
  return `${JSON.stringify(doc, null, 1)}\n`;
}

// From raw runs to table rows: the spread of each (variant, placement) across repetitions and
// its ratio to every baseline of the workload in the same placement.
import { placementLabel } from '../placement.js';
import type { WorkloadResult } from '../runner/schedule.js';
import { ratio, spread, type Spread } from '../stats.js';
import type { Placement, Sample } from '../workload-contract.js';
import { percentiles } from './latency-percentiles.js';

export interface Row {
  readonly variant: string;
  readonly baseline: boolean;
  readonly placement: Placement;
  /** headline figure across repetitions; null when every repetition failed */
  readonly value: Spread | null;
  /** secondary figures (MB/s, p99, …) across repetitions */
  readonly extra: Readonly<Record<string, Spread>>;
  /** median ÷ the baseline's median in the same placement, by baseline name */
  readonly ratios: Readonly<Record<string, number | null>>;
  readonly failures: readonly string[];
}

export interface WorkloadSummary {
  readonly result: WorkloadResult;
  /** what the headline figure is, e.g. 'events/s' or 'p50 µs' */
  readonly headline: string;
  readonly baselines: readonly string[];
  readonly rows: readonly Row[];
}

/** The table figures of one sample: latency samples are reduced to percentiles here. */
export function figures(sample: Sample): { value: number; extra: Record<string, number> } {
  switch (sample.kind) {
    case 'rate':
    case 'series':
      return { value: sample.value, extra: { ...sample.extra } };
    case 'latency': {
      const p = percentiles(sample.histogram);
      return { value: p.p50, extra: { 'p99 µs': p.p99, 'p99.9 µs': p.p999 } };
    }
  }
}

export function headlineOf(result: WorkloadResult): string {
  const w = result.workload;
  if (w.kind === 'latency') return `p50 ${w.unit}`;
  if (w.kind === 'series') {
    const first = result.runs.find((r) => r.sample?.kind === 'series')?.sample;
    return first?.kind === 'series' ? `${first.valueLabel} ${w.unit}` : w.unit;
  }
  return w.unit;
}

export function summarize(result: WorkloadResult): WorkloadSummary {
  const w = result.workload;
  const partial: Array<Omit<Row, 'ratios'>> = [];
  for (const variant of w.variants) {
    for (const placement of result.placements) {
      const runs = result.runs.filter((r) => r.variant === variant.name && r.placement === placement);
      const figs = runs.flatMap((r) => (r.sample ? [figures(r.sample)] : []));
      const extraKeys = [...new Set(figs.flatMap((f) => Object.keys(f.extra)))];
      const extra: Record<string, Spread> = {};
      for (const k of extraKeys) {
        const vs = figs.flatMap((f) => (f.extra[k] === undefined ? [] : [f.extra[k]!]));
        if (vs.length > 0) extra[k] = spread(vs);
      }
      partial.push({
        variant: variant.name,
        baseline: variant.baseline === true,
        placement,
        value: figs.length > 0 ? spread(figs.map((f) => f.value)) : null,
        extra,
        failures: runs.flatMap((r) => (r.error ? [`rep ${r.rep} (${placementLabel[placement]}): ${r.error}`] : [])),
      });
    }
  }
  const baselines = w.variants.filter((v) => v.baseline === true).map((v) => v.name);
  const rows = partial.map((row): Row => {
    const ratios: Record<string, number | null> = {};
    for (const b of baselines) {
      const base = partial.find((r) => r.variant === b && r.placement === row.placement);
      ratios[b] = row.value && base?.value ? ratio(row.value.median, base.value.median) : null;
    }
    return { ...row, ratios };
  });
  return { result, headline: headlineOf(result), baselines, rows };
}

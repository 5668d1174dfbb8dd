// Which chart each workload gets: rate → bars with min–max whiskers, latency → percentile curves
// from the merged histograms, series → the median repetition's line.
import type { MachineInfo } from '../machine.js';
import { placementLabel } from '../placement.js';
import { medianIndex } from '../stats.js';
import { barChart } from '../svg/bar-chart.js';
import { lineChart } from '../svg/line-chart.js';
import { colorAt, dashAt } from '../svg/palette.js';
import { percentileChart } from '../svg/percentile-chart.js';
import type { LineSeries } from '../svg/series.js';
import { mergedCurve } from './latency-percentiles.js';
import type { WorkloadSummary } from './summary.js';

export function chartFor(s: WorkloadSummary, machine: MachineInfo): string {
  const { result } = s;
  const w = result.workload;
  const where = `${machine.cpuModel}, ${machine.cores} cores, node ${machine.node}, ${machine.date.slice(0, 10)}`;
  const seriesStyle = (variant: string, placement: (typeof result.placements)[number]) => ({
    color: colorAt(w.variants.findIndex((v) => v.name === variant)),
    dash: dashAt(result.placements.indexOf(placement)),
  });
  const label = (variant: string, placement: (typeof result.placements)[number]): string =>
    result.placements.length > 1 || placement !== 'unpinned' ? `${variant} · ${placementLabel[placement]}` : variant;

  if (w.kind === 'rate') {
    const series = result.placements.map((p, i) => ({ name: placementLabel[p], color: colorAt(i) }));
    return barChart({
      title: w.title,
      subtitle: `median of ${result.reps} repetitions · ${where}`,
      yLabel: `${w.unit} (${w.higherIsBetter ? 'higher' : 'lower'} is better)`,
      series,
      whiskerLabel: `min–max over ${result.reps} repetitions`,
      groups: w.variants.map((v) => ({
        label: v.name,
        bars: s.rows
          .filter((r) => r.variant === v.name && r.value)
          .map((r) => ({ series: placementLabel[r.placement], median: r.value!.median, min: r.value!.min, max: r.value!.max })),
      })),
    });
  }

  if (w.kind === 'latency') {
    const curves: LineSeries[] = [];
    for (const v of w.variants) {
      for (const p of result.placements) {
        const hists = result.runs.flatMap((r) => (r.variant === v.name && r.placement === p && r.sample?.kind === 'latency' ? [r.sample.histogram] : []));
        if (hists.length > 0) curves.push({ label: label(v.name, p), ...seriesStyle(v.name, p), points: mergedCurve(hists) });
      }
    }
    return percentileChart({
      title: w.title,
      subtitle: `${result.reps} repetitions merged per line · ${where}`,
      yLabel: `round trip, ${w.unit}`,
      curves,
    });
  }

  const lines: LineSeries[] = [];
  for (const v of w.variants) {
    for (const p of result.placements) {
      const samples = result.runs.flatMap((r) => (r.variant === v.name && r.placement === p && r.sample?.kind === 'series' ? [r.sample] : []));
      if (samples.length === 0) continue;
      const pick = samples[medianIndex(samples.map((x) => x.value))]!;
      lines.push({ label: label(v.name, p), ...seriesStyle(v.name, p), points: pick.points });
    }
  }
  const valueLabel = result.runs.find((r) => r.sample?.kind === 'series')?.sample;
  return lineChart({
    title: w.title,
    subtitle: `the repetition with the median ${valueLabel?.kind === 'series' ? valueLabel.valueLabel : 'value'} of ${result.reps} · ${where}`,
    xLabel: 'time since start, s',
    yLabel: `${w.chart?.yLabel ?? 'value'}, ${w.unit}`,
    lines,
    ...(w.chart?.logY ? { logY: true } : {}),
  });
}

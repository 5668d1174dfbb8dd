// Latency percentile curves: x is the percentile on a "nines" scale (log of 1 − p), so p50, p90,
// p99, p99.9 and p99.99 are evenly spaced and the tail gets the room it deserves; y is µs.
import { WIDTH, layout, legend, title, xAxis, yAxis } from './chart-frame.js';
import { formatValue, linear, log10Scale, logTicks, niceMax, niceTicks } from './scale.js';
import { extent, polyline, type LineSeries } from './series.js';
import { svgDocument } from './xml.js';

export interface PercentileChartSpec {
  readonly title: string;
  readonly subtitle?: string;
  readonly yLabel: string;
  /** points are [percentile 50..99.99, value] */
  readonly curves: readonly LineSeries[];
}

export const nines = (p: number): number => Math.log10(100 / (100 - p));

const X_TICKS = [50, 90, 99, 99.9, 99.99];

export function percentileChart(spec: PercentileChartSpec): string {
  const { height, plot, legendTop } = layout(spec.curves.length);
  const x = linear(nines(50), nines(99.99), plot.x, plot.x + plot.w);
  const [lo, hi] = extent(spec.curves, 1);
  // A log y axis only when the tail is far above the median; otherwise linear from 0 reads better.
  const useLog = lo > 0 && hi / lo > 20;
  let yTicks: number[];
  let y;
  if (useLog) {
    const d0 = 10 ** Math.floor(Math.log10(lo));
    const d1 = 10 ** Math.ceil(Math.log10(hi));
    y = log10Scale(d0, d1, plot.y + plot.h, plot.y);
    yTicks = logTicks(d0, d1);
  } else {
    const top = niceMax(hi);
    y = linear(0, top, plot.y + plot.h, plot.y);
    yTicks = niceTicks(0, top);
  }
  const asNines = spec.curves.map((c) => ({ ...c, points: c.points.map(([p, v]) => [nines(p), v] as const) }));
  const body = [
    ...title(spec.title, spec.subtitle),
    ...yAxis(
      plot,
      yTicks.map((v) => ({ at: y(v), label: formatValue(v) })),
      `${spec.yLabel}${useLog ? ' (log scale)' : ''}`,
    ),
    ...xAxis(
      plot,
      X_TICKS.map((p) => ({ at: x(nines(p)), label: `p${p}` })),
      'percentile (log scale of 1 − p)',
    ),
    ...asNines.map((c) => polyline(c, x, y)),
    ...legend(
      spec.curves.map((c) => ({ label: c.label, color: c.color, ...(c.dash ? { dash: c.dash } : {}), shape: 'line' as const })),
      legendTop,
    ),
  ];
  return svgDocument(WIDTH, height, spec.title, body);
}

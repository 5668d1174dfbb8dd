// Time series (RSS, clock error): x is seconds since the start, y the measured value.
import { WIDTH, layout, legend, title, xAxis, yAxis } from './chart-frame.js';
import { formatValue, linear, log10Scale, logTicks, niceMax, niceTicks, type Scale } from './scale.js';
import { extent, polyline, type LineSeries } from './series.js';
import { svgDocument } from './xml.js';

export interface LineChartSpec {
  readonly title: string;
  readonly subtitle?: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly lines: readonly LineSeries[];
  /** log y axis (values ≤ 0 are drawn at its bottom), for errors spanning decades */
  readonly logY?: boolean;
}

export function lineChart(spec: LineChartSpec): string {
  const { height, plot, legendTop } = layout(spec.lines.length);
  const [, xMax] = extent(spec.lines, 0);
  const [yMin, yMax] = extent(spec.lines, 1);
  const xTop = niceMax(xMax);
  // Clock error can be negative: the y axis covers 0 and whatever sign the data has.
  const x = linear(0, xTop, plot.x, plot.x + plot.w);
  let y: Scale;
  let yTicks: number[];
  if (spec.logY) {
    const positive = spec.lines.flatMap((s) => s.points.map((p) => p[1]).filter((v) => v > 0 && Number.isFinite(v)));
    const lo = positive.length > 0 ? Math.min(...positive) : 0.1;
    const d0 = 10 ** Math.floor(Math.log10(lo));
    const d1 = 10 ** Math.max(Math.ceil(Math.log10(Math.max(yMax, lo))), Math.log10(d0) + 1);
    y = log10Scale(d0, d1, plot.y + plot.h, plot.y);
    yTicks = logTicks(d0, d1);
  } else {
    const yBottom = yMin < 0 ? -niceMax(-yMin) : 0;
    const yTop = yMax > 0 ? niceMax(yMax) : 0;
    y = linear(yBottom, yTop === yBottom ? yBottom + 1 : yTop, plot.y + plot.h, plot.y);
    yTicks = niceTicks(yBottom, yTop);
  }
  const body = [
    ...title(spec.title, spec.subtitle),
    ...yAxis(
      plot,
      yTicks.map((v) => ({ at: y(v), label: formatValue(v) })),
      `${spec.yLabel}${spec.logY ? ' (log scale)' : ''}`,
    ),
    ...xAxis(
      plot,
      niceTicks(0, xTop).map((v) => ({ at: x(v), label: formatValue(v) })),
      spec.xLabel,
    ),
    ...spec.lines.map((s) => polyline(s, x, y)),
    ...legend(
      spec.lines.map((s) => ({ label: s.label, color: s.color, ...(s.dash ? { dash: s.dash } : {}), shape: 'line' as const })),
      legendTop,
    ),
  ];
  return svgDocument(WIDTH, height, spec.title, body);
}

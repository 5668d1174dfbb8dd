// Time series (RSS, clock error): x is seconds since the start, y the measured value.
import { WIDTH, layout, legend, title, xAxis, yAxis } from './frame.js';
import { formatValue, linear, niceMax, niceTicks } from './scale.js';
import { extent, polyline, type LineSeries } from './series.js';
import { svgDocument } from './xml.js';

export interface LineChartSpec {
  readonly title: string;
  readonly subtitle?: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly lines: readonly LineSeries[];
}

export function lineChart(spec: LineChartSpec): string {
  const { height, plot, legendTop } = layout(spec.lines.length);
  const [, xMax] = extent(spec.lines, 0);
  const [yMin, yMax] = extent(spec.lines, 1);
  const xTop = niceMax(xMax);
  // Clock error can be negative: the y axis covers 0 and whatever sign the data has.
  const yBottom = yMin < 0 ? -niceMax(-yMin) : 0;
  const yTop = yMax > 0 ? niceMax(yMax) : 0;
  const x = linear(0, xTop, plot.x, plot.x + plot.w);
  const y = linear(yBottom, yTop === yBottom ? yBottom + 1 : yTop, plot.y + plot.h, plot.y);
  const body = [
    ...title(spec.title, spec.subtitle),
    ...yAxis(plot, niceTicks(yBottom, yTop).map((v) => ({ at: y(v), label: formatValue(v) })), spec.yLabel),
    ...xAxis(plot, niceTicks(0, xTop).map((v) => ({ at: x(v), label: formatValue(v) })), spec.xLabel),
    ...spec.lines.map((s) => polyline(s, x, y)),
    ...legend(spec.lines.map((s) => ({ label: s.label, color: s.color, ...(s.dash ? { dash: s.dash } : {}), shape: 'line' as const })), legendTop),
  ];
  return svgDocument(WIDTH, height, spec.title, body);
}

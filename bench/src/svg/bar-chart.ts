// Throughput bars: one group per variant, one bar per series (placement) in it, the bar at the
// median of the repetitions and a whisker from their min to their max.
import { WIDTH, layout, legend, title, xAxis, yAxis, type LegendEntry } from './chart-frame.js';
import { formatValue, linear, niceMax, niceTicks } from './scale.js';
import { el, svgDocument, text } from './xml.js';

export interface Bar {
  readonly series: string;
  readonly median: number;
  readonly min: number;
  readonly max: number;
}

export interface BarGroup {
  readonly label: string;
  readonly bars: readonly Bar[];
}

export interface BarChartSpec {
  readonly title: string;
  readonly subtitle?: string;
  readonly yLabel: string;
  readonly groups: readonly BarGroup[];
  /** legend order and colour of each series */
  readonly series: ReadonlyArray<{ readonly name: string; readonly color: string }>;
  readonly whiskerLabel: string;
}

export function barChart(spec: BarChartSpec): string {
  const legendEntries: LegendEntry[] = [
    ...spec.series.map((s): LegendEntry => ({ label: s.name, color: s.color, shape: 'box' })),
    { label: spec.whiskerLabel, color: '#222', shape: 'whisker' },
  ];
  const { height, plot, legendTop } = layout(legendEntries.length);
  const top = niceMax(Math.max(0, ...spec.groups.flatMap((g) => g.bars.map((b) => b.max))));
  const y = linear(0, top, plot.y + plot.h, plot.y);
  const groupW = plot.w / Math.max(1, spec.groups.length);
  const body: string[] = [
    ...title(spec.title, spec.subtitle),
    ...yAxis(
      plot,
      niceTicks(0, top).map((v) => ({ at: y(v), label: formatValue(v) })),
      spec.yLabel,
    ),
  ];
  const bySeries = new Map<string, string[]>();
  const xTicks = spec.groups.map((g, gi) => {
    const inner = groupW * 0.7;
    const barW = Math.min(90, inner / Math.max(1, g.bars.length));
    const x0 = plot.x + gi * groupW + (groupW - barW * g.bars.length) / 2;
    g.bars.forEach((b, bi) => {
      const color = spec.series.find((s) => s.name === b.series)?.color ?? '#888';
      const x = x0 + bi * barW;
      const cx = x + barW / 2;
      const parts = [
        el('rect', { x: x + 2, y: y(b.median), width: barW - 4, height: Math.max(0, y(0) - y(b.median)), fill: color, 'fill-opacity': 0.85 }),
        el('path', {
          d: `M${cx} ${y(b.min)}V${y(b.max)}M${cx - 6} ${y(b.min)}H${cx + 6}M${cx - 6} ${y(b.max)}H${cx + 6}`,
          stroke: '#222',
          'stroke-width': 1.5,
          fill: 'none',
        }),
        text({ x: cx, y: y(b.max) - 6, 'text-anchor': 'middle', 'font-size': 11 }, formatValue(b.median)),
      ];
      const list = bySeries.get(b.series) ?? [];
      list.push(...parts);
      bySeries.set(b.series, list);
    });
    return { at: plot.x + gi * groupW + groupW / 2, label: g.label };
  });
  for (const [name, parts] of bySeries) body.push(el('g', { class: 'series', 'data-series': name }, ...parts));
  body.push(...xAxis(plot, xTicks, 'variant', false));
  body.push(...legend(legendEntries, legendTop));
  return svgDocument(WIDTH, height, spec.title, body);
}

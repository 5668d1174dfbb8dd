// A data series drawn as a line, shared by the percentile and time-series charts.
import type { Scale } from './scale.js';
import { el } from './xml.js';

export interface LineSeries {
  readonly label: string;
  readonly color: string;
  readonly dash?: string;
  /** [x, y] in data units */
  readonly points: ReadonlyArray<readonly [number, number]>;
}

export function polyline(s: LineSeries, x: Scale, y: Scale): string {
  const pts = s.points
    .filter(([a, b]) => Number.isFinite(a) && Number.isFinite(b))
    .map(([a, b]) => `${Math.round(x(a) * 10) / 10},${Math.round(y(b) * 10) / 10}`)
    .join(' ');
  return el(
    'g',
    { class: 'series', 'data-series': s.label },
    el('polyline', {
      points: pts,
      fill: 'none',
      stroke: s.color,
      'stroke-width': 2,
      'stroke-linejoin': 'round',
      'stroke-dasharray': s.dash || undefined,
    }),
  );
}

export function extent(series: readonly LineSeries[], axis: 0 | 1): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const s of series) {
    for (const p of s.points) {
      const v = p[axis];
      if (!Number.isFinite(v)) continue;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  }
  return lo <= hi ? [lo, hi] : [0, 1];
}

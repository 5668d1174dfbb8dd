// The parts every chart shares: title, plot area, axes with tick labels and units, grid lines,
// and a legend below the plot.
import { el, text } from './xml.js';

export interface Box {
  readonly x: number;
  readonly y: number;
  readonly w: number;
  readonly h: number;
}

export interface Tick {
  readonly at: number;
  readonly label: string;
}

export interface LegendEntry {
  readonly label: string;
  readonly color: string;
  readonly dash?: string;
  /** 'line' for curves, 'box' for bars, 'whisker' for the min–max key */
  readonly shape: 'line' | 'box' | 'whisker';
}

export const WIDTH = 760;
const PLOT_HEIGHT = 340;
const LEGEND_ROW = 18;
const MARGIN = { left: 78, right: 24, top: 46, bottom: 56 };

/** Chart height and plot box for a legend of `legendEntries` entries in two columns. */
export function layout(legendEntries: number): { height: number; plot: Box; legendTop: number } {
  const legendRows = Math.ceil(legendEntries / 2);
  const plot = { x: MARGIN.left, y: MARGIN.top, w: WIDTH - MARGIN.left - MARGIN.right, h: PLOT_HEIGHT };
  const legendTop = plot.y + plot.h + MARGIN.bottom;
  return { height: legendTop + legendRows * LEGEND_ROW + 12, plot, legendTop };
}

export function title(main: string, sub?: string): string[] {
  const out = [text({ x: WIDTH / 2, y: 20, 'text-anchor': 'middle', 'font-size': 15, 'font-weight': 'bold' }, main)];
  if (sub) out.push(text({ x: WIDTH / 2, y: 36, 'text-anchor': 'middle', 'font-size': 11, fill: '#555' }, sub));
  return out;
}

export function yAxis(plot: Box, ticks: readonly Tick[], label: string): string[] {
  const out: string[] = [];
  for (const t of ticks) {
    out.push(el('line', { x1: plot.x, x2: plot.x + plot.w, y1: t.at, y2: t.at, stroke: '#e3e3e3' }));
    out.push(el('line', { x1: plot.x - 5, x2: plot.x, y1: t.at, y2: t.at, stroke: '#333' }));
    out.push(text({ x: plot.x - 8, y: t.at + 4, 'text-anchor': 'end' }, t.label));
  }
  out.push(el('line', { x1: plot.x, x2: plot.x, y1: plot.y, y2: plot.y + plot.h, stroke: '#333' }));
  const cy = plot.y + plot.h / 2;
  out.push(text({ x: 16, y: cy, 'text-anchor': 'middle', transform: `rotate(-90 16 ${cy})`, 'font-size': 13 }, label));
  return out;
}

export function xAxis(plot: Box, ticks: readonly Tick[], label: string, grid = true): string[] {
  const base = plot.y + plot.h;
  const out: string[] = [];
  for (const t of ticks) {
    if (grid) out.push(el('line', { x1: t.at, x2: t.at, y1: plot.y, y2: base, stroke: '#e3e3e3' }));
    out.push(el('line', { x1: t.at, x2: t.at, y1: base, y2: base + 5, stroke: '#333' }));
    out.push(text({ x: t.at, y: base + 19, 'text-anchor': 'middle' }, t.label));
  }
  out.push(el('line', { x1: plot.x, x2: plot.x + plot.w, y1: base, y2: base, stroke: '#333' }));
  out.push(text({ x: plot.x + plot.w / 2, y: base + 42, 'text-anchor': 'middle', 'font-size': 13 }, label));
  return out;
}

export function legend(entries: readonly LegendEntry[], top: number): string[] {
  const out: string[] = [];
  const colW = (WIDTH - MARGIN.left - MARGIN.right) / 2;
  entries.forEach((e, i) => {
    const x = MARGIN.left + (i % 2) * colW;
    const y = top + Math.floor(i / 2) * LEGEND_ROW;
    let mark: string;
    if (e.shape === 'box') {
      mark = el('rect', { x, y: y - 9, width: 22, height: 10, fill: e.color, 'fill-opacity': 0.85 });
    } else if (e.shape === 'whisker') {
      mark = el('path', {
        d: `M${x + 11} ${y - 11}V${y + 3}M${x + 6} ${y - 11}H${x + 16}M${x + 6} ${y + 3}H${x + 16}`,
        stroke: e.color,
        'stroke-width': 1.5,
        fill: 'none',
      });
    } else {
      mark = el('line', { x1: x, x2: x + 22, y1: y - 4, y2: y - 4, stroke: e.color, 'stroke-width': 2.5, 'stroke-dasharray': e.dash || undefined });
    }
    out.push(el('g', { class: 'legend-entry' }, mark, text({ x: x + 30, y }, e.label)));
  });
  return out;
}

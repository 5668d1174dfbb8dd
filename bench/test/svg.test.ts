import { describe, expect, it } from 'vitest';
import { barChart } from '../src/svg/bar-chart.js';
import { lineChart } from '../src/svg/line-chart.js';
import { nines, percentileChart } from '../src/svg/percentile-chart.js';
import { formatValue, logTicks, niceMax, niceTicks } from '../src/svg/scale.js';
import { assertWellFormed } from './wellformed.js';

const seriesNames = (svg: string): string[] => [...svg.matchAll(/data-series="([^"]*)"/g)].map((m) => m[1]!);

describe('svg charts', () => {
  it('bar chart: well-formed, one series group per placement, labels and legend present', () => {
    const svg = barChart({
      title: 'One-way <small> events & more',
      yLabel: 'events/s (higher is better)',
      series: [
        { name: 'same CPU', color: '#0072B2' },
        { name: 'across CPUs', color: '#D55E00' },
      ],
      whiskerLabel: 'min–max over 5 repetitions',
      groups: [
        {
          label: 'raw socket',
          bars: [
            { series: 'same CPU', median: 5e6, min: 4e6, max: 6e6 },
            { series: 'across CPUs', median: 3e6, min: 2e6, max: 3.5e6 },
          ],
        },
        { label: 'grpc-js', bars: [{ series: 'same CPU', median: 2e4, min: 1e4, max: 3e4 }] },
      ],
    });
    assertWellFormed(svg);
    expect(svg.startsWith('<?xml')).toBe(true);
    expect(svg).toContain('One-way &lt;small&gt; events &amp; more');
    expect(seriesNames(svg)).toEqual(['same CPU', 'across CPUs']);
    expect(svg.match(/<rect [^>]*fill-opacity/g)?.length).toBe(3 + 2); // 3 bars + 2 legend boxes
    for (const label of ['raw socket', 'grpc-js', 'events/s (higher is better)', 'min–max over 5 repetitions', '5M']) {
      expect(svg).toContain(label);
    }
  });

  it('percentile chart: one polyline per curve, percentile ticks, µs label', () => {
    const curve = (k: number): Array<[number, number]> => [50, 90, 99, 99.9, 99.99].map((p, i) => [p, k * (i + 1)]);
    const svg = percentileChart({
      title: 'Round trip',
      yLabel: 'round trip, µs',
      curves: [
        { label: 'raw socket · same CPU', color: '#0072B2', points: curve(10) },
        { label: 'grpc-js · across CPUs', color: '#D55E00', dash: '7 4', points: curve(100) },
      ],
    });
    assertWellFormed(svg);
    expect(seriesNames(svg)).toEqual(['raw socket · same CPU', 'grpc-js · across CPUs']);
    expect(svg.match(/<polyline /g)?.length).toBe(2);
    for (const t of ['p50', 'p90', 'p99', 'p99.9', 'p99.99', 'round trip, µs']) expect(svg).toContain(`>${t}`);
    // polyline has one point per input percentile
    const pts = /<polyline points="([^"]*)"/.exec(svg)![1]!.split(' ');
    expect(pts).toHaveLength(5);
  });

  it('line chart: well-formed, series in order, handles negative values', () => {
    const svg = lineChart({
      title: 'Clock error',
      xLabel: 'time since start, s',
      yLabel: 'error, µs',
      lines: [
        {
          label: 'a',
          color: '#000',
          points: [
            [0, -5],
            [1, 3],
            [2, 8],
          ],
        },
        {
          label: 'b',
          color: '#111',
          points: [
            [0, 1],
            [2, 2],
          ],
        },
      ],
    });
    assertWellFormed(svg);
    expect(seriesNames(svg)).toEqual(['a', 'b']);
    expect(svg).toContain('time since start, s');
    expect(svg).toContain('>-5<');
  });

  it('line chart with a log y axis: decades as ticks, zero drawn at the bottom', () => {
    const svg = lineChart({
      title: 'Clock error',
      xLabel: 's',
      yLabel: '|error|, µs',
      logY: true,
      lines: [
        {
          label: 'a',
          color: '#000',
          points: [
            [0, 0],
            [1, 3],
            [2, 800],
          ],
        },
      ],
    });
    assertWellFormed(svg);
    expect(svg).toContain('(log scale)');
    for (const tick of ['>1<', '>10<', '>100<', '>1k<']) expect(svg).toContain(tick);
    const pts = /<polyline points="([^"]*)"/.exec(svg)![1]!.split(' ');
    expect(pts).toHaveLength(3);
    expect(pts.every((p) => p.split(',').every((v) => Number.isFinite(Number(v))))).toBe(true);
  });
});

describe('scales', () => {
  it('nice ticks and maxima', () => {
    expect(niceTicks(0, 10, 5)).toEqual([0, 2, 4, 6, 8, 10]);
    expect(niceMax(83)).toBe(100);
    expect(niceMax(0)).toBe(1);
    expect(logTicks(10, 1000)).toEqual([10, 20, 50, 100, 200, 500, 1000]);
  });
  it('percentile axis spaces the nines evenly', () => {
    expect(nines(50)).toBeCloseTo(Math.log10(2), 9);
    expect(nines(90)).toBeCloseTo(1, 9);
    expect(nines(99)).toBeCloseTo(2, 9);
    expect(nines(99.9)).toBeCloseTo(3, 9);
  });
  it('compact labels', () => {
    expect(formatValue(1_250_000)).toBe('1.3M');
    expect(formatValue(350_000)).toBe('350k');
    expect(formatValue(12.5)).toBe('12.5');
    expect(formatValue(0)).toBe('0');
  });
});

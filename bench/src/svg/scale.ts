// Scales and tick choice for the charts.

export type Scale = (v: number) => number;

export function linear(d0: number, d1: number, r0: number, r1: number): Scale {
  const k = d1 === d0 ? 0 : (r1 - r0) / (d1 - d0);
  return (v) => r0 + (v - d0) * k;
}

export function log10Scale(d0: number, d1: number, r0: number, r1: number): Scale {
  const s = linear(Math.log10(d0), Math.log10(d1), r0, r1);
  return (v) => s(Math.log10(Math.max(v, d0)));
}

/** Ticks at 1, 2 or 5 × 10^k covering [min, max] with about `target` steps. */
export function niceTicks(min: number, max: number, target = 5): number[] {
  if (!(max > min)) return [min];
  const raw = (max - min) / target;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const ticks: number[] = [];
  for (let v = Math.ceil(min / step) * step; v <= max + step * 1e-9; v += step) {
    ticks.push(Number(v.toPrecision(12)));
  }
  return ticks;
}

/** The nice upper end of an axis that starts at 0. */
export function niceMax(max: number, target = 5): number {
  if (!(max > 0)) return 1;
  const ticks = niceTicks(0, max, target);
  const last = ticks[ticks.length - 1]!;
  return last >= max ? last : last + (ticks[1]! - ticks[0]!);
}

/** Ticks for a log axis: every 1-2-5 when the range is short, decades otherwise. */
export function logTicks(min: number, max: number): number[] {
  const lo = Math.floor(Math.log10(min));
  const hi = Math.ceil(Math.log10(max));
  const mults = hi - lo <= 3 ? [1, 2, 5] : [1];
  const out: number[] = [];
  for (let e = lo; e <= hi; e++) {
    for (const m of mults) {
      const v = Number((m * 10 ** e).toPrecision(12));
      if (v >= min * 0.999 && v <= max * 1.001) out.push(v);
    }
  }
  return out;
}

/** Compact tick and value labels: 1.2M, 350k, 12.5, 0.25. */
export function formatValue(v: number): string {
  const a = Math.abs(v);
  const trim = (s: string): string => (s.includes('.') ? s.replace(/\.?0+$/, '') : s);
  if (a >= 1e9) return `${trim((v / 1e9).toFixed(a >= 1e10 ? 0 : 1))}G`;
  if (a >= 1e6) return `${trim((v / 1e6).toFixed(a >= 1e7 ? 0 : 1))}M`;
  if (a >= 1e3) return `${trim((v / 1e3).toFixed(a >= 1e5 ? 0 : 1))}k`;
  if (a >= 100) return v.toFixed(0);
  if (a >= 10) return trim(v.toFixed(1));
  if (a === 0) return '0';
  return trim(v.toPrecision(2));
}

// Number formatting for the Markdown tables: three significant digits, thousands separated, so
// that 1,230,000 events/s and 45.2 µs both read at a glance without false precision.

export function formatFigure(v: number): string {
  if (!Number.isFinite(v)) return '—';
  if (v === 0) return '0';
  const r = Number(v.toPrecision(3));
  return Math.abs(r) >= 1000 ? Math.round(r).toLocaleString('en-US') : String(r);
}

export function formatRatio(r: number | null): string {
  if (r === null) return '—';
  return `${r >= 10 ? r.toFixed(1) : r.toFixed(2)}×`;
}

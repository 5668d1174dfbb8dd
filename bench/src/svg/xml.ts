// Minimal SVG/XML text building: elements as strings, every attribute and text node escaped.

export type Attrs = Readonly<Record<string, string | number | undefined>>;

export function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** Coordinates with one decimal: enough for a 1000-px chart, and keeps the files small. */
export const num = (n: number): string => (Math.round(n * 10) / 10).toString();

export function el(tag: string, attrs: Attrs, ...children: string[]): string {
  const a = Object.entries(attrs)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => ` ${k}="${typeof v === 'number' ? num(v) : esc(v!)}"`)
    .join('');
  return children.length === 0 ? `<${tag}${a}/>` : `<${tag}${a}>${children.join('')}</${tag}>`;
}

export const text = (attrs: Attrs, content: string): string => el('text', attrs, esc(content));

export function svgDocument(width: number, height: number, title: string, body: string[]): string {
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n` +
    el(
      'svg',
      {
        xmlns: 'http://www.w3.org/2000/svg',
        width,
        height,
        viewBox: `0 0 ${width} ${height}`,
        'font-family': 'Helvetica, Arial, sans-serif',
        'font-size': 12,
      },
      el('title', {}, esc(title)),
      // an opaque background: viewers with dark themes otherwise show black text on black
      el('rect', { x: 0, y: 0, width, height, fill: '#ffffff' }),
      ...body,
    ) +
    '\n'
  );
}

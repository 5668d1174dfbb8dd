import { describe, expect, it } from 'vitest';
import { escapeText } from '../src/escape-text.js';

describe('escapeText', () => {
  it('leaves ordinary text alone, unicode included', () => {
    expect(escapeText('guest-1 (café, 東京) 🚀')).toBe('guest-1 (café, 東京) 🚀');
  });
  it('makes a forged log line and ANSI escapes visible', () => {
    const name = 'evil\nenvtest server: all good\u001b[2J\u001b]0;pwned\u0007';
    const out = escapeText(name);
    expect(out).toBe('evil\\nenvtest server: all good\\e[2J\\e]0;pwned\\x07');
    expect(out).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
  });
  it('escapes C1 controls, bidi overrides, invisible characters and lone surrogates', () => {
    expect(escapeText('a\u009bb\u202ec\u2066d\u200be\ufefff\u2028')).toBe('a\\x9bb\\u202ec\\u2066d\\u200be\\ufefff\\u2028');
    expect(escapeText('x\ud800y\udc00')).toBe('x\\ud800y\\udc00');
    expect(escapeText('\ud83d\ude80')).toBe('\ud83d\ude80');
  });
  it('is unambiguous: a literal backslash-n differs from a newline', () => {
    expect(escapeText('a\\nb')).toBe('a\\\\nb');
    expect(escapeText('a\nb')).toBe('a\\nb');
  });
  it('cuts long text and says so', () => {
    const out = escapeText('x'.repeat(10_000), 16);
    expect(out).toBe(`${'x'.repeat(16)}…`);
  });
});

/**
 * Text a peer chose (a HELLO name, an error message, a string inside an event) is hostile until
 * escaped: a newline forges a log line, an ANSI escape rewrites the operator's terminal, a bidi
 * override reorders what they read. {@link escapeText} makes such text safe to print.
 */

/** Default longest escaped text, in UTF-16 code units, before the ellipsis. */
export const ESCAPE_TEXT_MAX = 256;

// C0 controls, DEL, C1 controls, the line/paragraph separators, and the bidi embedding,
// override and isolate characters, plus zero-width and BOM characters that hide text.
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069\u200b-\u200f\ufeff\\]/g;

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

function escapeChar(ch: string): string {
  switch (ch) {
    case '\\':
      return '\\\\';
    case '\n':
      return '\\n';
    case '\r':
      return '\\r';
    case '\t':
      return '\\t';
    case '\u001b':
      return '\\e';
    default: {
      const code = ch.charCodeAt(0);
      return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
    }
  }
}

/**
 * Returns `text` with every control, line-breaking, bidi and invisible character written as a
 * visible escape (`\n`, `\e`, `\x07`, `\u202e`; a backslash becomes `\\`, so the escaping is
 * unambiguous), cut to `maxLength` code units (then ending in `…`). Lone surrogates are kept
 * as `\uXXXX` too. Use it on anything a peer named before it reaches a log line or a terminal.
 */
export function escapeText(text: string, maxLength = ESCAPE_TEXT_MAX): string {
  const cut = text.length > maxLength ? text.slice(0, maxLength) : text;
  let out = cut.replace(UNSAFE, escapeChar);
  // Lone surrogates (a name cut mid-pair, or sent that way) print as replacement glyphs or break
  // some terminals: show them as escapes too.
  out = out.replace(LONE_SURROGATE, escapeChar);
  return text.length > maxLength ? `${out}…` : out;
}

// A small XML well-formedness check for the SVG tests (no parser dependency): every tag closes
// in order, attributes are quoted, and '&' only starts an entity.

export function assertWellFormed(xml: string): void {
  const body = xml.replace(/^<\?xml[^?]*\?>\s*/, '');
  const stack: string[] = [];
  const tagRe = /<(\/?)([A-Za-z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>/y;
  let i = 0;
  while (i < body.length) {
    const lt = body.indexOf('<', i);
    const textPart = lt === -1 ? body.slice(i) : body.slice(i, lt);
    if (/&(?!(amp|lt|gt|quot|#\d+);)/.test(textPart)) throw new Error(`bare & in text near ${i}`);
    if (lt === -1) break;
    tagRe.lastIndex = lt;
    const m = tagRe.exec(body);
    if (!m) throw new Error(`malformed tag at ${lt}: ${body.slice(lt, lt + 60)}`);
    const [, closing, name, attrs, selfClose] = m;
    if (/&(?!(amp|lt|gt|quot|#\d+);)/.test(attrs ?? '')) throw new Error(`bare & in attributes of <${name}>`);
    if (closing) {
      const open = stack.pop();
      if (open !== name) throw new Error(`</${name}> closes <${open}>`);
    } else if (!selfClose) {
      stack.push(name!);
    }
    i = tagRe.lastIndex;
  }
  if (stack.length > 0) throw new Error(`unclosed: ${stack.join(' > ')}`);
}

/**
 * Event specs as users write them: `sched:sched_switch`, `irq:*`,
 * `sched:sched_switch[prev_pid > 0 && next_pid > 0]`, comma-separated or repeated.
 * @packageDocumentation
 */
import { FtraceError } from './errors.js';
import type { FtraceEventSpec } from './types.js';

/** Longest spec list text accepted (one argument); tracefs filters are short. */
export const MAX_EVENT_SPEC_TEXT = 8192;
/** Most specs in one source. */
export const MAX_EVENT_SPECS = 256;

// System and event names become tracefs paths: only what the kernel itself uses (no '/', no '..').
const NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

function bad(text: string, why: string): FtraceError {
  return new FtraceError('BAD_EVENT_SPEC', `bad ftrace event spec ${JSON.stringify(text)}: ${why} (write system:event, system:* or system:event[filter])`);
}

/** Splits at commas that are outside `[...]` and outside quotes. */
function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quote = '';
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = '';
    } else if (c === '"' || c === "'") {
      if (depth > 0) quote = c;
    } else if (c === '[') depth++;
    else if (c === ']') depth = Math.max(0, depth - 1);
    else if (c === ',' && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts;
}

/** Parses one spec (no top-level comma). */
export function parseFtraceEventSpec(raw: string): FtraceEventSpec {
  const text = raw.trim();
  if (text === '') throw bad(raw, 'empty');
  let head = text;
  let filter: string | undefined;
  const open = text.indexOf('[');
  if (open >= 0) {
    if (!text.endsWith(']')) throw bad(raw, 'a filter must be closed by "]" at the end');
    head = text.slice(0, open).trim();
    filter = text.slice(open + 1, -1).trim();
    if (filter === '') throw bad(raw, 'empty filter "[]"');
    if (/[\n\r\0]/.test(filter)) throw bad(raw, 'a filter must be one line');
  }
  const colon = head.indexOf(':');
  if (colon < 0) throw bad(raw, 'missing "system:"');
  const system = head.slice(0, colon);
  const name = head.slice(colon + 1);
  if (!NAME.test(system)) throw bad(raw, `system ${JSON.stringify(system)} is not a tracefs event system name`);
  if (name !== '*' && !NAME.test(name)) throw bad(raw, `event ${JSON.stringify(name)} is not a tracefs event name (or *)`);
  return filter === undefined ? { system, name } : { system, name, filter };
}

/**
 * Parses CLI text: each element holds comma-separated specs (commas inside `[...]` do not split);
 * returns them in order, without duplicates of the same `system:name`.
 * @throws FtraceError `BAD_EVENT_SPEC` on a malformed spec, with the spec in the message.
 */
export function parseFtraceEventSpecs(list: readonly string[]): FtraceEventSpec[] {
  const specs: FtraceEventSpec[] = [];
  const seen = new Set<string>();
  for (const text of list) {
    if (text.length > MAX_EVENT_SPEC_TEXT) throw bad(text.slice(0, 60) + '…', `longer than ${MAX_EVENT_SPEC_TEXT} characters`);
    for (const part of splitTopLevel(text)) {
      if (part.trim() === '') continue; // tolerate "a,b," and "a,,b"
      const spec = parseFtraceEventSpec(part);
      const key = `${spec.system}:${spec.name}`;
      if (seen.has(key)) throw bad(part, `${key} is given twice`);
      seen.add(key);
      specs.push(spec);
      if (specs.length > MAX_EVENT_SPECS) throw bad(text.slice(0, 60), `more than ${MAX_EVENT_SPECS} specs`);
    }
  }
  if (specs.length === 0) throw bad(list.join(','), 'no event given');
  return specs;
}

/** Normalises {@link FtraceSourceOptions.events}: text is parsed, spec objects are validated. */
export function normaliseEventSpecs(events: readonly FtraceEventSpec[] | readonly string[]): FtraceEventSpec[] {
  if (events.every((e): e is string => typeof e === 'string')) return parseFtraceEventSpecs(events);
  const specs: FtraceEventSpec[] = [];
  const seen = new Set<string>();
  for (const e of events as readonly unknown[]) {
    if (typeof e !== 'object' || e === null) throw bad(String(e), 'not a spec object');
    const { system, name, filter } = e as Partial<FtraceEventSpec>;
    const text = `${String(system)}:${String(name)}`;
    const head = parseFtraceEventSpec(text);
    if (filter !== undefined && (typeof filter !== 'string' || filter.trim() === '' || /[\n\r\0]/.test(filter)))
      throw bad(`${text}[${String(filter)}]`, 'a filter must be one non-empty line');
    if (seen.has(text)) throw bad(text, `${text} is given twice`);
    seen.add(text);
    specs.push(filter === undefined ? head : { ...head, filter: filter.trim() });
  }
  if (specs.length === 0) throw bad('', 'no event given');
  if (specs.length > MAX_EVENT_SPECS) throw bad(`${specs.length} specs`, `more than ${MAX_EVENT_SPECS} specs`);
  return specs;
}

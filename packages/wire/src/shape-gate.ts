import { Kind, type TSchema } from '@sinclair/typebox';

/**
 * A schema-guided pre-check of a MessagePack payload, compiled once per schema: it walks the
 * bytes without building the value and refuses, at the first byte that shows it, a payload that
 * cannot pass the schema (a bin where an object is expected, a 16 MiB string where
 * `maxLength: 65` is declared, an array claiming more items than the payload has bytes).
 * Without it, msgpackr materialises whatever a peer sends and TypeBox then walks it (a 16 MiB
 * bin checked as an object costs ~0.3 µs and ~33 bytes of garbage per byte: issue 11).
 *
 * It is a gate, not a validator: it only refuses what msgpackr + TypeBox would refuse too
 * (PROTOCOL.md §3), and everything it lets through is decoded and checked by them as before.
 * Two refusals are its own, both PROTOCOL.md §3 rules msgpackr does not enforce: extension
 * types (msgpackr would build Dates, Sets, typed arrays, undefined from them) and 0xc1.
 *
 * Cost: one pass over the bytes, no allocation but for the error it throws; a value the schema
 * does not describe (Unknown, a union it cannot narrow) is skipped by an iterative loop, so a
 * deeply nested payload costs no stack.
 */
export interface ShapeGate {
  /**
   * Checks `src[start, end)`. Returns undefined when msgpackr + TypeBox must decide, or the
   * reason the payload is refused: a {@link GateRefusal}.
   */
  check(src: Uint8Array, start: number, end: number): GateRefusal | undefined;
}

/** Why the gate refused a payload: `decode` (not protocol MessagePack) or `schema` (with the JSON pointer). */
export interface GateRefusal {
  readonly kind: 'decode' | 'schema';
  readonly path: string;
  readonly detail: string;
}

// Value classes of MessagePack type bytes, as msgpackr decodes them (PROTOCOL.md §3).
const NIL = 1, BOOL = 2, INT = 4, FLOAT = 8, BIG = 16, STR = 32, BIN = 64, ARR = 128, MAP = 256;
const ALL = 511;
const CLASS_NAMES: readonly [number, string][] = [[NIL, 'nil'], [BOOL, 'boolean'], [INT, 'integer'], [FLOAT, 'float'], [BIG, 'int 64'], [STR, 'string'], [BIN, 'binary'], [ARR, 'array'], [MAP, 'map']];

const enum K { Any, Leaf, Array, Tuple, Object, Record, Union }

interface Node {
  readonly k: K;
  /** Classes this node can accept (others are refused at the type byte). */
  readonly allow: number;
  readonly expected: string;
  // Leaf (strings, binary): bounds on the byte length, derived from the schema.
  readonly strMin: number;
  readonly strMax: number;
  readonly binMin: number;
  readonly binMax: number;
  // Array / Tuple.
  readonly minItems: number;
  readonly maxItems: number;
  readonly item: Node | undefined;
  readonly items: readonly Node[];
  // Object.
  readonly names: readonly Uint8Array[];
  readonly segments: readonly string[];
  readonly props: readonly Node[];
  /** A non-empty bin can pass this object schema (TypeBox sees a Uint8Array as an object). */
  readonly binAnyLength: boolean;
  /** Bit j: declared property j (j < 31) is required. */
  readonly requiredMask: number;
  /** `additionalProperties: false`: an undeclared key refuses the object. */
  readonly closed: boolean;
  // Record: the value schema, and whether every key is checked (pattern `^(.*)$`).
  readonly value: Node | undefined;
  // Union.
  readonly members: readonly Node[];
}

const ANY: Node = node(K.Any, ALL, 'anything');

function node(k: K, allow: number, expected: string, extra: Partial<Node> = {}): Node {
  return {
    k, allow, expected,
    strMin: 0, strMax: Infinity, binMin: 0, binMax: Infinity,
    minItems: 0, maxItems: Infinity, item: undefined, items: [],
    names: [], segments: [], props: [], binAnyLength: false, requiredMask: 0, closed: false,
    value: undefined, members: [],
    ...extra,
  };
}

/** Compiles the gate of `schema`. Kinds it does not know are skipped (left to TypeBox). */
export function compileShapeGate(schema: TSchema): ShapeGate {
  const root = compile(schema, 0);
  return { check: (src, start, end) => run(root, src, start, end) };
}

function num(v: unknown, fallback: number): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : fallback;
}

function compile(s: TSchema, depth: number): Node {
  // A schema nested this deep is unusual; past it the gate stops looking (TypeBox still checks).
  if (depth > 32) return ANY;
  const sc = s as Record<string, unknown>;
  switch ((s as unknown as Record<symbol, unknown>)[Kind]) {
    case 'String':
      // UTF-16 length u of L bytes of str, however msgpackr decodes them (valid or not):
      // ceil(L / 4) ≤ u ≤ L (PROTOCOL.md §3: lengths count UTF-16 code units).
      return node(K.Leaf, STR, 'string', { strMin: num(sc.minLength, 0), strMax: num(sc.maxLength, Infinity) });
    case 'Number':
    case 'Integer':
      return node(K.Leaf, INT | FLOAT, 'number');
    case 'BigInt':
      return node(K.Leaf, BIG, 'int 64 / uint 64 (bigint)');
    case 'Boolean':
      return node(K.Leaf, BOOL, 'boolean');
    case 'Null':
      return node(K.Leaf, NIL, 'nil');
    case 'Uint8Array':
      return node(K.Leaf, BIN, 'binary', { binMin: num(sc.minByteLength, 0), binMax: num(sc.maxByteLength, Infinity) });
    case 'Literal': {
      const c = sc.const;
      if (typeof c === 'string') return node(K.Leaf, STR, `the string literal`, { strMin: c.length, strMax: c.length });
      if (typeof c === 'number') return node(K.Leaf, INT | FLOAT, 'a number literal');
      if (typeof c === 'boolean') return node(K.Leaf, BOOL, 'a boolean literal');
      return ANY;
    }
    case 'Array':
      return node(K.Array, ARR, 'array', {
        minItems: num(sc.minItems, 0),
        maxItems: num(sc.maxItems, Infinity),
        item: sc.items ? compile(sc.items as TSchema, depth + 1) : ANY,
      });
    case 'Tuple': {
      const items = ((sc.items as TSchema[] | undefined) ?? []).map((i) => compile(i, depth + 1));
      return node(K.Tuple, ARR, 'array', { minItems: num(sc.minItems, items.length), maxItems: num(sc.maxItems, items.length), items });
    }
    case 'Object':
      return compileObject(sc, depth);
    case 'Record': {
      const patterns = Object.entries((sc.patternProperties as Record<string, TSchema> | undefined) ?? {});
      // Only the string-keyed record checks every entry; other key patterns are TypeBox's business.
      const value = patterns.length === 1 && patterns[0]![0] === '^(.*)$' ? compile(patterns[0]![1], depth + 1) : ANY;
      return node(K.Record, MAP, 'map', { value });
    }
    case 'Union': {
      const members = ((sc.anyOf as TSchema[] | undefined) ?? []).map((m) => compile(m, depth + 1));
      let allow = 0;
      for (const m of members) allow |= m.allow;
      if (members.some((m) => m.k === K.Any)) return ANY;
      return node(K.Union, allow, 'one of the union', { members });
    }
    default:
      // Unknown, Any, Intersect, Ref, This, Not, Unsafe, Date, …: not judged here.
      return ANY;
  }
}

const INDEX_LIKE = /^(0|[1-9][0-9]*)$/;

function compileObject(sc: Record<string, unknown>, depth: number): Node {
  const properties = (sc.properties as Record<string, TSchema> | undefined) ?? {};
  const required = (sc.required as string[] | undefined) ?? [];
  const entries = Object.entries(properties);
  // TypeBox's object check accepts a Uint8Array (msgpackr's bin) unless it lacks a required
  // property (only index-like names can be its own properties) or, with additionalProperties
  // false or a schema no byte value fits, has an undeclared index property (any non-empty bin).
  const binOk = required.every((r) => INDEX_LIKE.test(r));
  const ap = sc.additionalProperties;
  const apRefusesBytes = ap === false || (typeof ap === 'object' && ap !== null && (compile(ap as TSchema, depth + 1).allow & INT) === 0);
  const binAnyLength = binOk && !(apRefusesBytes && !entries.some(([n]) => INDEX_LIKE.test(n)));
  return node(K.Object, binOk ? MAP | BIN : MAP, 'map (object)', {
    names: entries.map(([n]) => Buffer.from(n, 'utf8')),
    segments: entries.map(([n]) => '/' + n.replace(/~/g, '~0').replace(/\//g, '~1')),
    props: entries.map(([, p]) => compile(p, depth + 1)),
    binAnyLength,
    requiredMask: entries.reduce((m, [name], j) => (j < 31 && required.includes(name) ? m | (1 << j) : m), 0),
    closed: ap === false,
  });
}

// ---- the walk -------------------------------------------------------------------------------
// Module state, not per-call objects: a check allocates nothing until it refuses. The walk
// calls no user code, so it cannot be re-entered.

let src: Uint8Array = new Uint8Array(0);
let end = 0;
/** Set by a node that refuses its value; the callers add their path segments on the way up. */
let fault = false;
let faultDetail = '';
const faultPath: string[] = [];
/** Structural failure (truncated, extension, 0xc1): final, msgpackr refuses it too. */
let broken = '';
/** Enclosing maps with entries still to come: a later duplicate key could replace a refused value. */
let openMaps = 0;
/** Position after the class byte's header, and the value's length or count, set by {@link head}. */
let hp = 0;
let hn = 0;

/** A stored failure of a map entry, kept until the map ends (a later duplicate key may replace it). */
interface Held {
  path: string[];
  detail: string;
}

const FINAL = -2; // a refusal nothing later can undo: stop the walk
const BROKEN = -1;

function run(root: Node, s: Uint8Array, start: number, e: number): GateRefusal | undefined {
  src = s;
  end = e;
  fault = false;
  broken = '';
  faultPath.length = 0;
  openMaps = 0;
  let p: number;
  try {
    p = walk(root, start);
  } finally {
    src = EMPTY; // do not pin the caller's buffer
  }
  if (p === BROKEN) return { kind: 'decode', path: '', detail: broken };
  if (fault || p === FINAL) return { kind: 'schema', path: faultPath.reverse().join(''), detail: faultDetail };
  if (p !== e) return { kind: 'decode', path: '', detail: `${e - p} bytes after the end of the MessagePack value` };
  return undefined;
}
const EMPTY = new Uint8Array(0);

/** Refuses the value at `p` (its class byte was read): returns FINAL, or its end to go on. */
function refuse(p: number, detail: string): number {
  // A value cut short is a decode error first (PROTOCOL.md §3): what its header alone shows.
  const cls = head(p);
  if (cls === 0 || (cls === ARR ? hn > end - hp : cls === MAP ? 2 * hn > end - hp : hp + hn > end)) {
    if (cls !== 0) trunc();
    return BROKEN;
  }
  fault = true;
  faultDetail = detail;
  faultPath.length = 0;
  if (openMaps === 0) return FINAL;
  return skip(p, 1);
}

/**
 * Reads the header at `p`: returns its class and sets `hp` (first byte after the header) and
 * `hn` (byte length of str/bin, item count of arrays, entry count of maps). Returns 0 for a
 * truncated header, an extension or 0xc1 (`broken` says which).
 */
function head(p: number): number {
  if (p >= end) return trunc();
  const t = src[p]!;
  hp = p + 1;
  hn = 0; // fixints, nil and booleans have no body
  if (t < 0x80 || t >= 0xe0) return INT;
  if (t < 0x90) { hn = t & 0x0f; return MAP; }
  if (t < 0xa0) { hn = t & 0x0f; return ARR; }
  if (t < 0xc0) { hn = t & 0x1f; return STR; }
  switch (t) {
    case 0xc0: return NIL;
    case 0xc2: case 0xc3: return BOOL;
    case 0xc4: return len(1, BIN);
    case 0xc5: return len(2, BIN);
    case 0xc6: return len(4, BIN);
    case 0xca: hn = 4; return FLOAT;
    case 0xcb: hn = 8; return FLOAT;
    case 0xcc: hn = 1; return INT;
    case 0xcd: hn = 2; return INT;
    case 0xce: hn = 4; return INT;
    case 0xd0: hn = 1; return INT;
    case 0xd1: hn = 2; return INT;
    case 0xd2: hn = 4; return INT;
    case 0xcf: case 0xd3: hn = 8; return BIG;
    case 0xd9: return len(1, STR);
    case 0xda: return len(2, STR);
    case 0xdb: return len(4, STR);
    case 0xdc: return len(2, ARR);
    case 0xdd: return len(4, ARR);
    case 0xde: return len(2, MAP);
    case 0xdf: return len(4, MAP);
    case 0xc1:
      broken = `0xc1 at byte ${p} is not a MessagePack value`;
      return 0;
    default:
      broken = `extension type at byte ${p}: PROTOCOL.md §3 allows no extension types`;
      return 0;
  }
}

function trunc(): number {
  broken = `the payload ends inside a value (${end} bytes)`;
  return 0;
}

function len(w: number, cls: number): number {
  if (hp + w > end) return trunc();
  let n = 0;
  for (let i = 0; i < w; i++) n = n * 256 + src[hp + i]!;
  hp += w;
  hn = n;
  return cls;
}

/** Position after a scalar's body: `hn` bytes (a number's width, a str's or bin's length). */
function bodyEnd(): number {
  const e = hp + hn;
  return e > end ? (trunc(), BROKEN) : e;
}

/**
 * Skips `count` values from `p` without looking at them but for their structure: a loop, not
 * recursion, so nesting costs no stack. Returns the end, or BROKEN.
 */
function skip(p: number, count: number): number {
  let pending = count;
  while (pending > 0) {
    // Every value takes at least a byte: a count beyond the bytes left is a lie, known now.
    if (pending > end - p) return (trunc(), BROKEN);
    // The one-byte headers inline: most of a big payload is made of them.
    const t = src[p]!;
    if (t < 0xc0) {
      pending--;
      if (t < 0x80) p++;
      else if (t < 0x90) { pending += 2 * (t & 0x0f); p++; }
      else if (t < 0xa0) { pending += t & 0x0f; p++; }
      else p += 1 + (t & 0x1f);
      continue;
    }
    const cls = head(p);
    if (cls === 0) return BROKEN;
    pending--;
    if (cls === ARR) { pending += hn; p = hp; }
    else if (cls === MAP) { pending += 2 * hn; p = hp; }
    else { p = bodyEnd(); if (p < 0) return BROKEN; }
  }
  return p > end ? (trunc(), BROKEN) : p;
}

function describe(cls: number): string {
  for (const [c, n] of CLASS_NAMES) if (c === cls) return n;
  return 'value';
}

/** Walks the value at `p` against `n`; returns its end, BROKEN or FINAL (fault set). */
function walk(n: Node, p: number): number {
  if (n.k === K.Any) return skip(p, 1);
  const cls = head(p);
  if (cls === 0) return BROKEN;
  if ((n.allow & cls) === 0) return refuse(p, `expected ${n.expected}, got ${describe(cls)}`);
  switch (n.k) {
    case K.Leaf: {
      if (cls === STR) {
        if (hn < n.strMin) return refuse(p, `a string of ${hn} bytes is shorter than minLength ${n.strMin}`);
        if (Math.ceil(hn / 4) > n.strMax) return refuse(p, `a string of ${hn} bytes is longer than maxLength ${n.strMax}`);
      } else if (cls === BIN) {
        if (hn < n.binMin || hn > n.binMax) return refuse(p, `binary of ${hn} bytes is outside ${n.binMin} … ${n.binMax}`);
      }
      return bodyEnd();
    }
    case K.Array:
    case K.Tuple:
      return walkArray(n, p, hp, hn);
    case K.Object:
      if (cls === BIN) return n.binAnyLength || hn === 0 ? bodyEnd() : refuse(p, `expected ${n.expected}, got binary`);
      return walkObject(n, hp, hn);
    case K.Record:
      return walkRecord(n, hp, hn);
    case K.Union: {
      let only: Node | undefined;
      for (const m of n.members) {
        if ((m.allow & cls) === 0) continue;
        if (only) return skip(p, 1); // two members could take it: TypeBox decides
        only = m;
      }
      return walk(only!, p);
    }
  }
  return skip(p, 1);
}

function walkArray(n: Node, start: number, p: number, count: number): number {
  if (count > n.maxItems) return refuse(start, `${count} items, more than maxItems ${n.maxItems}`);
  if (count < n.minItems) return refuse(start, `${count} items, fewer than minItems ${n.minItems}`);
  if (count > end - p) return (trunc(), BROKEN);
  for (let i = 0; i < count; i++) {
    p = walk(n.k === K.Array ? n.item! : (n.items[i] ?? ANY), p);
    if (p < 0) {
      if (p === FINAL) faultPath.push(`/${i}`);
      return p;
    }
    if (fault) {
      faultPath.push(`/${i}`);
      return skip(p, count - i - 1); // nothing later in an array can undo it
    }
  }
  return p;
}

/** Compares the key at src[p, p+len) with a declared name. */
function keyIs(name: Uint8Array, p: number, len: number): boolean {
  if (name.length !== len) return false;
  for (let i = 0; i < len; i++) if (src[p + i] !== name[i]) return false;
  return true;
}

/**
 * Whether a key could decode to a name other than its bytes say: a non-string key (msgpackr
 * turns 1 into '1', nil into 'null'), non-ASCII bytes (invalid UTF-8 decodes loosely), or
 * `__proto__` (msgpackr renames it). A refused entry whose key might reappear in that form
 * cannot be held against the map.
 */
function ambiguous(cls: number, p: number, len: number): boolean {
  if (cls !== STR) return true;
  for (let i = 0; i < len; i++) if (src[p + i]! >= 0x80) return true;
  return len === 9 && keyIs(PROTO, p, len);
}
const PROTO = Buffer.from('__proto__');

/** Reads a map key at `p`; sets kc (class), kp/kl (str bytes); returns the position after it. */
let kc = 0, kp = 0, kl = 0;
function readKey(p: number): number {
  kc = head(p);
  if (kc === 0) return BROKEN;
  if (kc === STR) {
    kp = hp;
    kl = hn;
    const e = hp + hn;
    return e > end ? (trunc(), BROKEN) : e;
  }
  // msgpackr refuses array and map keys of an object; anything else it turns into a string.
  if (kc === ARR || kc === MAP) { broken = `a map key at byte ${p} is an array or a map`; return BROKEN; }
  return skip(p, 1);
}

function walkObject(n: Node, p: number, count: number): number {
  if (count > (end - p) / 2) return (trunc(), BROKEN);
  // Refused properties, by index: held until the map ends, since a later duplicate key
  // (msgpackr keeps the last) may replace the value.
  let heldMask = 0;
  let held: (Held | undefined)[] | undefined;
  // Required properties seen; any ambiguous key might be one of them.
  let seen = 0;
  let anyAmbiguous = false;
  const names = n.names;
  for (let i = 0; i < count; i++) {
    const keyAt = p;
    p = readKey(p);
    if (p < 0) return p;
    let j = -1;
    if (kc === STR) for (let x = 0; x < names.length; x++) if (keyIs(names[x]!, kp, kl)) { j = x; break; }
    if (j < 0) {
      if (ambiguous(kc, kp, kl)) {
        heldMask = 0;
        anyAmbiguous = true;
      } else if (n.closed) {
        // An undeclared name stays in the object whatever comes later: refused for certain.
        fault = true;
        faultDetail = 'a property the schema does not declare (additionalProperties: false)';
        faultPath.length = 0;
        faultPath.push(segment(kc, kp, kl));
        return openMaps === 0 ? FINAL : skip(keyAt, 2 * (count - i));
      }
      p = skip(p, 1);
      if (p < 0) return p;
      continue;
    }
    const last = i === count - 1;
    if (!last) openMaps++;
    p = walk(n.props[j]!, p);
    if (!last) openMaps--;
    if (j < 31) {
      heldMask &= ~(1 << j);
      seen |= 1 << j;
    }
    if (p === FINAL) { faultPath.push(n.segments[j]!); return FINAL; }
    if (p < 0) return p;
    if (fault) {
      fault = false;
      faultPath.push(n.segments[j]!);
      if (j >= 31) {
        // Beyond the mask: not held (TypeBox still refuses it), which is never wrong.
        faultPath.length = 0;
        continue;
      }
      heldMask |= 1 << j;
      (held ??= [])[j] = { path: faultPath.slice(), detail: faultDetail };
      faultPath.length = 0;
    }
  }
  if (heldMask === 0 && !anyAmbiguous && (n.requiredMask & ~seen) !== 0) {
    const j = 31 - Math.clz32(n.requiredMask & ~seen & -(n.requiredMask & ~seen));
    fault = true;
    faultDetail = 'a required property is missing';
    faultPath.length = 0;
    faultPath.push(n.segments[j]!);
    return openMaps === 0 ? FINAL : p;
  }
  return release(heldMask, held, p);
}

function finalOr(p: number): number {
  fault = true;
  return openMaps === 0 ? FINAL : p;
}

function release(mask: number, held: (Held | undefined)[] | undefined, p: number): number {
  if (mask === 0) return p;
  const j = 31 - Math.clz32(mask & -mask);
  const h = held![j]!;
  faultPath.length = 0;
  faultPath.push(...h.path);
  faultDetail = h.detail;
  return finalOr(p);
}

const NEWLINES = [0x0a, 0x0d];

/** Whether TypeBox's record pattern `^(.*)$` fails on the key, leaving its value unchecked. */
function keyHasLineBreak(p: number, len: number): boolean {
  for (let i = 0; i < len; i++) {
    const b = src[p + i]!;
    if (b === NEWLINES[0] || b === NEWLINES[1]) return true;
    // U+2028 / U+2029 (E2 80 A8 / A9): line terminators for a JS regex too.
    if (b === 0xe2 && src[p + i + 1] === 0x80 && (src[p + i + 2] === 0xa8 || src[p + i + 2] === 0xa9)) return true;
  }
  return false;
}

function walkRecord(n: Node, p: number, count: number): number {
  if (count > (end - p) / 2) return (trunc(), BROKEN);
  const value = n.value!;
  // The first refused entry (its key bytes), and how many were refused: held until the map
  // ends, since a later duplicate key may replace the value.
  let refused = 0;
  let firstKp = 0, firstKl = 0;
  let first: Held | undefined;
  for (let i = 0; i < count; i++) {
    p = readKey(p);
    if (p < 0) return p;
    // The key, kept: walking the value reads nested keys into the same variables.
    const kcl = kc, kpl = kp, kll = kl;
    const amb = ambiguous(kc, kp, kl);
    if (refused > 0) {
      // A key that may equal a refused one: the refusal can no longer be held for certain.
      if (amb || refused > 1 || sameBytes(firstKp, firstKl, kp, kl)) {
        refused = 0;
        first = undefined;
      }
    }
    if (value.k === K.Any || (kc === STR && keyHasLineBreak(kp, kl))) {
      p = skip(p, 1);
      if (p < 0) return p;
      continue;
    }
    const last = i === count - 1;
    if (!last) openMaps++;
    p = walk(value, p);
    if (!last) openMaps--;
    if (p === FINAL) { faultPath.push(segment(kcl, kpl, kll)); return FINAL; }
    if (p < 0) return p;
    if (fault) {
      fault = false;
      faultPath.push(segment(kcl, kpl, kll));
      if (refused++ === 0 && !amb) {
        first = { path: faultPath.slice(), detail: faultDetail };
        firstKp = kpl;
        firstKl = kll;
      }
      faultPath.length = 0;
    }
  }
  if (refused === 0 || !first) return p;
  faultPath.length = 0;
  faultPath.push(...first.path);
  faultDetail = first.detail;
  return finalOr(p);
}

function segment(cls: number, p: number, len: number): string {
  return cls === STR ? '/' + keyText(p, len) : '/*';
}

function sameBytes(a: number, alen: number, b: number, blen: number): boolean {
  if (alen !== blen) return false;
  for (let i = 0; i < alen; i++) if (src[a + i] !== src[b + i]) return false;
  return true;
}

/** A record key for a path: at most 64 bytes of it, JSON-pointer escaped (the caller escapes for logs). */
function keyText(p: number, len: number): string {
  const shown = Buffer.from(src.buffer, src.byteOffset + p, Math.min(len, 64)).toString('utf8');
  return shown.replace(/~/g, '~0').replace(/\//g, '~1') + (len > 64 ? '…' : '');
}

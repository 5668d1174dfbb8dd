import type { TSchema } from '@sinclair/typebox';
import { compileFastPath, skipValues } from './shape-gate-fast.js';
import { ANY, ARR, BIG, BIN, BOOL, CLASS_NAMES, FLOAT, INT, K, MAP, NIL, STR, compileNode, type Node } from './shape-gate-node.js';

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
 * Cost: a payload that fits is confirmed by code generated for its schema (shape-gate-fast.ts)
 * in one pass over its structure, jumping over string and binary bodies (a 1000-event trace
 * batch: ~6% of what msgpackr + TypeBox spend on it). Any other payload is walked again by the
 * interpreter below, which gives the verdict: at most two passes, no allocation but for the
 * error it returns; a value the schema does not describe (Unknown, a union it cannot narrow) is
 * skipped by an iterative loop, so a deeply nested payload costs no stack.
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

/**
 * Compiles the gate of `schema`. Kinds it does not know are skipped (left to TypeBox).
 *
 * Two walks judge the bytes. First the fast path (shape-gate-fast.ts): JavaScript generated for
 * the schema, which only confirms a payload that is plainly well-formed and fits, and gives up at
 * the first byte that is not (a refusal, or anything unusual). Only then the interpreter below
 * walks the payload again from its start and gives the verdict, with its path and detail. The
 * fast path accepts nothing the interpreter would refuse, so the verdicts are the interpreter's;
 * it costs at most one more pass over the bytes, and allocates nothing either.
 */
export function compileShapeGate(schema: TSchema): ShapeGate {
  const root = compileNode(schema);
  const fast = compileFastPath(root);
  return {
    check: (src, start, end) => (end <= src.length && start < end && fast(src, start, end) === end ? undefined : run(root, src, start, end)),
  };
}

/** The interpreter alone (no fast path), for tests comparing the two. @internal */
export function compileShapeGateInterpreter(schema: TSchema): ShapeGate {
  const root = compileNode(schema);
  return { check: (src, start, end) => run(root, src, start, end) };
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
  if (t < 0x90) {
    hn = t & 0x0f;
    return MAP;
  }
  if (t < 0xa0) {
    hn = t & 0x0f;
    return ARR;
  }
  if (t < 0xc0) {
    hn = t & 0x1f;
    return STR;
  }
  switch (t) {
    case 0xc0:
      return NIL;
    case 0xc2:
    case 0xc3:
      return BOOL;
    case 0xc4:
      return len(1, BIN);
    case 0xc5:
      return len(2, BIN);
    case 0xc6:
      return len(4, BIN);
    case 0xca:
      hn = 4;
      return FLOAT;
    case 0xcb:
      hn = 8;
      return FLOAT;
    case 0xcc:
      hn = 1;
      return INT;
    case 0xcd:
      hn = 2;
      return INT;
    case 0xce:
      hn = 4;
      return INT;
    case 0xd0:
      hn = 1;
      return INT;
    case 0xd1:
      hn = 2;
      return INT;
    case 0xd2:
      hn = 4;
      return INT;
    case 0xcf:
    case 0xd3:
      hn = 8;
      return BIG;
    case 0xd9:
      return len(1, STR);
    case 0xda:
      return len(2, STR);
    case 0xdb:
      return len(4, STR);
    case 0xdc:
      return len(2, ARR);
    case 0xdd:
      return len(4, ARR);
    case 0xde:
      return len(2, MAP);
    case 0xdf:
      return len(4, MAP);
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
  // The tight loop first; only a failure is walked again, for its reason.
  if (end > src.length) return skipExplained(p, count);
  const e = skipValues(src, p, end, count);
  if (e >= 0) return e;
  // Its first problem, as skipExplained finds it: a value cut short, or the type byte at -2 - e.
  if (e === -1) trunc();
  else head(-2 - e);
  return BROKEN;
}

/** {@link skip}, slower, setting `broken` when it fails. */
function skipExplained(p: number, count: number): number {
  let pending = count;
  while (pending > 0) {
    // Every value takes at least a byte: a count beyond the bytes left is a lie, known now.
    if (pending > end - p) return (trunc(), BROKEN);
    // The one-byte headers inline: most of a big payload is made of them.
    const t = src[p]!;
    if (t < 0xc0) {
      pending--;
      if (t < 0x80) p++;
      else if (t < 0x90) {
        pending += 2 * (t & 0x0f);
        p++;
      } else if (t < 0xa0) {
        pending += t & 0x0f;
        p++;
      } else p += 1 + (t & 0x1f);
      continue;
    }
    const cls = head(p);
    if (cls === 0) return BROKEN;
    pending--;
    if (cls === ARR) {
      pending += hn;
      p = hp;
    } else if (cls === MAP) {
      pending += 2 * hn;
      p = hp;
    } else {
      p = bodyEnd();
      if (p < 0) return BROKEN;
    }
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
 * cannot be held against the map. In an object, a non-string key is ambiguous only if some
 * declared name could be its string ({@link Node.keyClasses}): otherwise it is an undeclared
 * name for certain, refused at once by a closed object (`{1: 1, 1: 1, …}` where a batch is
 * expected no longer goes to msgpackr).
 */
function ambiguous(cls: number, p: number, len: number): boolean {
  if (cls !== STR) return true;
  return ambiguousStr(p, len);
}

/** {@link ambiguous} for a key of an object: a non-string key only if it could decode to one of its names. */
function ambiguousKey(n: Node, cls: number, p: number, len: number): boolean {
  return cls === STR ? ambiguousStr(p, len) : (n.keyClasses & cls) !== 0;
}

function ambiguousStr(p: number, len: number): boolean {
  for (let i = 0; i < len; i++) if (src[p + i]! >= 0x80) return true;
  return len === 9 && keyIs(PROTO, p, len);
}
const PROTO = Buffer.from('__proto__');

/** Reads a map key at `p`; sets kc (class), kp/kl (str bytes); returns the position after it. */
let kc = 0,
  kp = 0,
  kl = 0;
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
  if (kc === ARR || kc === MAP) {
    broken = `a map key at byte ${p} is an array or a map`;
    return BROKEN;
  }
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
    if (kc === STR)
      for (let x = 0; x < names.length; x++)
        if (keyIs(names[x]!, kp, kl)) {
          j = x;
          break;
        }
    if (j < 0) {
      if (ambiguousKey(n, kc, kp, kl)) {
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
    if (p === FINAL) {
      faultPath.push(n.segments[j]!);
      return FINAL;
    }
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
  let firstKp = 0,
    firstKl = 0;
  let first: Held | undefined;
  for (let i = 0; i < count; i++) {
    p = readKey(p);
    if (p < 0) return p;
    // The key, kept: walking the value reads nested keys into the same variables.
    const kcl = kc,
      kpl = kp,
      kll = kl;
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
    if (p === FINAL) {
      faultPath.push(segment(kcl, kpl, kll));
      return FINAL;
    }
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

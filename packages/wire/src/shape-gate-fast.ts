import { ARR, BIG, BIN, BOOL, FLOAT, INT, K, MAP, NIL, STR, type Node } from './shape-gate-node.js';

/**
 * The shape gate's fast path: JavaScript generated once per schema (as TypeBox's TypeCompiler
 * does, with `new Function`) that walks a payload's MessagePack bytes with the schema's constants
 * inlined: straight-line reads of the type bytes, declared property names compared byte by byte
 * under a switch on their length, string and count bounds as literals, one function per array,
 * object and record of the schema (scalars are inlined into them).
 *
 * It only ever confirms: it returns the end of the value when the payload is well-formed and
 * every byte it judges fits the schema, and -1 (or a position that is not the end) the moment
 * anything is refused or merely unusual (a non-string key, an undeclared key of a closed object,
 * a bin where an object is expected, a required property missing, an extension type…). The
 * interpreter (shape-gate.ts) then judges the payload from its start. So the fast path must never
 * confirm a payload the interpreter refuses; it may give up on any it accepts (the cost is one
 * more pass). Each of its checks is one of the interpreter's, or stricter:
 * - a value's type byte must be of a class its node allows; a union's class must belong to one
 *   member (several: skipped, as the interpreter does);
 * - string and binary lengths, item counts against the same bounds (node.strMin … binMax);
 * - counts no larger than the bytes left; the walk ends exactly at `end`;
 * - every key of an object is a string; a declared name (its bytes) is walked by its property's
 *   node, another is skipped in an open object and gives up in a closed one; every required
 *   property (bit < 31, as the interpreter's mask) must have been seen;
 * - a record's keys are strings, each value walked by the value node (the interpreter skips the
 *   value of a key with a line break; walking it anyway only gives up more often);
 * - an unknown value (Any) is skipped by a loop that gives up on extension types and 0xc1.
 *
 * Positions only grow and every byte read lies before the position the walk has reached after
 * it, so a result equal to `end` means no byte at or beyond `end` was read. Each loop turn
 * consumes a byte at least, and counts are checked against the bytes left: linear, no allocation,
 * and the recursion follows the schema's nesting (at most 33 deep, see compileNode), never the
 * payload's.
 */
export type FastPath = (src: Uint8Array, start: number, end: number) => number;

/** Bytes taken by a number (int 8–32, uint 8–32, fixint, float 32/64) of type byte t, 0 for another type. */
const NUMBER_WIDTH = new Uint8Array(256);
for (let t = 0; t < 0x80; t++) NUMBER_WIDTH[t] = 1;
for (let t = 0xe0; t < 0x100; t++) NUMBER_WIDTH[t] = 1;
for (const [t, w] of [
  [0xcc, 2],
  [0xd0, 2],
  [0xcd, 3],
  [0xd1, 3],
  [0xce, 5],
  [0xd2, 5],
  [0xca, 5],
  [0xcb, 9],
] as const)
  NUMBER_WIDTH[t] = w;

/** Bytes taken by a value of fixed size, the empty array and map included (0 for the others, ext and 0xc1). */
const FIXED_WIDTH = new Uint8Array(256);
FIXED_WIDTH.set(NUMBER_WIDTH);
for (const t of [0xc0, 0xc2, 0xc3, 0x80, 0x90, 0xa0]) FIXED_WIDTH[t] = 1;
FIXED_WIDTH[0xcf] = 9;
FIXED_WIDTH[0xd3] = 9;

/**
 * Skips `count` values at `p`, looking only at their structure (a loop: nesting costs no stack).
 * Returns their end (at most `e`); -1 when they do not fit before `e` (truncated); -2 - q for an
 * extension type or 0xc1 at q. Each value takes a byte at least, so
 * `pending ≤ e - p` holds at the top of the loop: a count beyond the bytes left is refused when
 * it is read, and the one-byte values (most of a large payload) need no other check.
 */
export function skipValues(s: Uint8Array, p: number, e: number, count: number): number {
  let pending = count;
  if (pending > e - p) return -1;
  while (pending > 0) {
    const t = s[p]!;
    const w = FIXED_WIDTH[t]!;
    if (w === 1) {
      // A run of one-byte values, in a loop of its own.
      const q = p;
      const stop = p + pending;
      do p++;
      while (p < stop && FIXED_WIDTH[s[p]!] === 1);
      pending -= p - q;
      continue;
    }
    pending--;
    if (t < 0xa0) {
      pending += t < 0x90 ? 2 * (t & 0x0f) : t & 0x0f;
      p++;
    } else if (t < 0xc0) p += 1 + (t & 0x1f);
    else if (w !== 0) p += w;
    else {
      switch (t) {
        case 0xc4:
        case 0xd9:
          p += 2 + (s[p + 1]! | 0);
          break;
        case 0xc5:
        case 0xda:
          p += 3 + ((s[p + 1]! << 8) | s[p + 2]!);
          break;
        case 0xc6:
        case 0xdb:
          p += 5 + u32(s, p + 1);
          break;
        case 0xdc:
          pending += (s[p + 1]! << 8) | s[p + 2]!;
          p += 3;
          break;
        case 0xdd:
          pending += u32(s, p + 1);
          p += 5;
          break;
        case 0xde:
          pending += 2 * ((s[p + 1]! << 8) | s[p + 2]!);
          p += 3;
          break;
        case 0xdf:
          pending += 2 * u32(s, p + 1);
          p += 5;
          break;
        default:
          return -2 - p; // an extension type or 0xc1 at p
      }
    }
    if (pending > e - p) return -1;
  }
  return p;
}

function u32(s: Uint8Array, p: number): number {
  return ((s[p]! << 24) | (s[p + 1]! << 16) | (s[p + 2]! << 8) | s[p + 3]!) >>> 0;
}

/** Compiles the fast path of a compiled schema. */
export function compileFastPath(root: Node): FastPath {
  return new Function('NUMBER_WIDTH', 'skip', 'u32', fastPathSource(root))(NUMBER_WIDTH, skipValues, u32) as FastPath;
}

/** The body of the function {@link compileFastPath} evaluates (its parameters: NUMBER_WIDTH, skip, u32). */
export function fastPathSource(root: Node): string {
  const g = new Generator();
  const rootCode = g.value(root, '  ');
  return `'use strict';\n${g.functions.join('\n')}\n` + `return function gate(s, p, E) {\n  let t = 0, n = 0, w = 0;\n${rootCode}  return p;\n};`;
}

const ARR_TEST = '(t & 0xf0) === 0x90 || t === 0xdc || t === 0xdd';
const MAP_TEST = '(t & 0xf0) === 0x80 || t === 0xde || t === 0xdf';

/** One way a node takes a value: the classes, the test of the type byte `t`, the code that consumes it. */
interface Alt {
  readonly cls: number;
  readonly test: string;
  readonly body: (indent: string) => string;
}

class Generator {
  readonly functions: string[] = [];
  readonly #names = new Map<Node, string>();

  /**
   * Code that consumes the value at `p` (type byte not yet read) as node `n`: it advances `p`,
   * or returns -1. Uses the locals t, n, w of the enclosing generated function.
   */
  value(n: Node, ind: string): string {
    if (n.k === K.Any) return `${ind}p = skip(s, p, E, 1);\n${ind}if (p < 0) return -1;\n`;
    const alts = this.alts(n);
    if (alts.length === 0) return `${ind}return -1;\n`;
    let code = `${ind}t = s[p];\n`;
    alts.forEach((a, i) => {
      code += `${ind}${i === 0 ? '' : 'else '}if (${a.test}) {\n${a.body(ind + '  ')}${ind}}\n`;
    });
    return code + `${ind}else return -1;\n`;
  }

  alts(n: Node): Alt[] {
    switch (n.k) {
      case K.Leaf:
        return this.leafAlts(n);
      case K.Array:
      case K.Tuple:
      case K.Record:
      case K.Object: {
        const f = this.fn(n);
        const call = (ind: string) => `${ind}p = ${f}(s, p, E);\n${ind}if (p < 0) return -1;\n`;
        // An object a bin can pass is the interpreter's business (the fast path gives up on it).
        return [n.k === K.Array || n.k === K.Tuple ? { cls: ARR, test: ARR_TEST, body: call } : { cls: MAP, test: MAP_TEST, body: call }];
      }
      case K.Union: {
        // As the interpreter: a class one member allows is that member's; a class several
        // allow is skipped (TypeBox decides); a class none allows is refused.
        const out: Alt[] = [];
        let shared = 0;
        for (const m of n.members) {
          let other = 0;
          for (const o of n.members) if (o !== m) other |= o.allow;
          shared |= m.allow & other;
          for (const a of this.alts(m)) if ((a.cls & other) === 0) out.push(a);
        }
        if (shared !== 0) out.push(...skipAlts(shared));
        return out;
      }
      default:
        return skipAlts(n.allow);
    }
  }

  leafAlts(n: Node): Alt[] {
    const out: Alt[] = [];
    if (n.allow & STR) out.push(stringAlt(n.strMin, n.strMax));
    if (n.allow & (INT | FLOAT)) {
      if ((n.allow & (INT | FLOAT)) !== (INT | FLOAT)) return skipAlts(n.allow); // not made by compileNode
      out.push({ cls: INT | FLOAT, test: '(w = NUMBER_WIDTH[t]) !== 0', body: (i) => `${i}p += w;\n` });
    }
    if (n.allow & BIG) out.push({ cls: BIG, test: 't === 0xd3 || t === 0xcf', body: (i) => `${i}p += 9;\n` });
    if (n.allow & BOOL) out.push({ cls: BOOL, test: 't === 0xc2 || t === 0xc3', body: (i) => `${i}p += 1;\n` });
    if (n.allow & NIL) out.push({ cls: NIL, test: 't === 0xc0', body: (i) => `${i}p += 1;\n` });
    if (n.allow & BIN) out.push(binAlt(n.binMin, n.binMax));
    if (n.allow & (ARR | MAP)) return skipAlts(n.allow); // not made by compileNode
    return out;
  }

  /** The name of the generated function for a composite node (generated on first use). */
  fn(n: Node): string {
    let name = this.#names.get(n);
    if (name) return name;
    name = `f${this.#names.size}`;
    this.#names.set(n, name);
    const i1 = '  ',
      i2 = '    ',
      i3 = '      ';
    let code = `function ${name}(s, p, E) {\n${i1}let t = s[p], n = 0, w = 0, i = 0;\n`;
    if (n.k === K.Array || n.k === K.Tuple) {
      code += countHeader(i1, 0x90, 0xdc, 0xdd);
      code += `${i1}const c = n;\n${i1}if (c > E - p) return -1;\n`;
      if (n.maxItems !== Infinity) code += `${i1}if (c > ${n.maxItems}) return -1;\n`;
      if (n.minItems > 0) code += `${i1}if (c < ${n.minItems}) return -1;\n`;
      if (n.k === K.Array && n.item!.k === K.Any) {
        code += `${i1}return skip(s, p, E, c);\n}\n`;
      } else if (n.k === K.Array) {
        code += `${i1}for (; i < c; i++) {\n${i2}if (p >= E) return -1;\n${this.value(n.item!, i2)}${i1}}\n${i1}return p;\n}\n`;
      } else {
        code += `${i1}for (; i < c; i++) {\n${i2}if (p >= E) return -1;\n${i2}switch (i) {\n`;
        n.items.forEach((item, j) => {
          code += `${i2}case ${j}: {\n${this.value(item, i3)}${i3}break;\n${i2}}\n`;
        });
        code += `${i2}default:\n${i3}p = skip(s, p, E, 1);\n${i3}if (p < 0) return -1;\n${i2}}\n${i1}}\n${i1}return p;\n}\n`;
      }
    } else {
      code += countHeader(i1, 0x80, 0xde, 0xdf);
      code += `${i1}const c = n;\n${i1}if (2 * c > E - p) return -1;\n`;
      code += n.k === K.Object ? `${i1}let seen = 0;\n` : '';
      code += `${i1}for (; i < c; i++) {\n${i2}if (p >= E) return -1;\n`;
      // The key: a string of any width (anything else is the interpreter's business).
      code +=
        `${i2}t = s[p];\n` +
        `${i2}let kp = 0, kl = 0;\n` +
        `${i2}if (t >= 0xa0 && t < 0xc0) { kl = t & 0x1f; kp = p + 1; }\n` +
        `${i2}else if (t === 0xd9) { kl = s[p + 1]; kp = p + 2; }\n` +
        `${i2}else if (t === 0xda) { kl = (s[p + 1] << 8) | s[p + 2]; kp = p + 3; }\n` +
        `${i2}else if (t === 0xdb) { kl = u32(s, p + 1); kp = p + 5; }\n` +
        `${i2}else return -1;\n` +
        `${i2}p = kp + kl;\n` +
        `${i2}if (p >= E) return -1;\n`;
      if (n.k === K.Record) {
        code += this.value(n.value!, i2);
      } else {
        code += this.objectKeys(n, i2);
        code += n.closed ? `${i2}return -1;\n` : `${i2}p = skip(s, p, E, 1);\n${i2}if (p < 0) return -1;\n`;
      }
      code += `${i1}}\n`;
      if (n.k === K.Object && n.requiredMask !== 0) code += `${i1}if ((seen & ${n.requiredMask}) !== ${n.requiredMask}) return -1;\n`;
      code += `${i1}return p;\n}\n`;
    }
    this.functions.push(code);
    return name;
  }

  /** A switch on the key's length, then its bytes: a declared name walks its property and continues the loop. */
  objectKeys(n: Node, ind: string): string {
    const byLength = new Map<number, number[]>();
    n.names.forEach((name, j) => {
      const list = byLength.get(name.length) ?? [];
      // A repeated name (impossible in an object schema) would only ever match the first.
      if (!list.some((x) => Buffer.compare(n.names[x]!, name) === 0)) list.push(j);
      byLength.set(name.length, list);
    });
    if (byLength.size === 0) return '';
    const i1 = ind + '  ',
      i2 = ind + '    ';
    let code = `${ind}switch (kl) {\n`;
    for (const [len, js] of byLength) {
      code += `${ind}case ${len}:\n`;
      for (const j of js) {
        const name = n.names[j]!;
        const cond = Array.from(name, (b, x) => `s[kp${x === 0 ? '' : ' + ' + x}] === ${b}`).join(' && ') || 'true';
        code += `${i1}if (${cond}) {\n${this.value(n.props[j]!, i2)}`;
        if (j < 31) code += `${i2}seen |= ${(1 << j) >>> 0};\n`;
        code += `${i2}continue;\n${i1}}\n`;
      }
      code += `${i1}break;\n`;
    }
    return code + `${ind}}\n`;
  }
}

/** Reads a str / bin / array / map length into `n` from a header of 8 (bin/str only), 16 or 32 bits, or the fix form. */
function countHeader(ind: string, fix: number, h16: number, h32: number): string {
  return (
    `${ind}if ((t & 0xf0) === ${fix}) { n = t & 0x0f; p += 1; }\n` +
    `${ind}else if (t === ${h16}) { n = (s[p + 1] << 8) | s[p + 2]; p += 3; }\n` +
    `${ind}else if (t === ${h32}) { n = u32(s, p + 1); p += 5; }\n` +
    `${ind}else return -1;\n`
  );
}

/**
 * A string of byte length L has a UTF-16 length u with ceil(L / 4) ≤ u ≤ L whatever its bytes:
 * as the interpreter, refused when L < minLength or ceil(L / 4) > maxLength, i.e. L > 4 floor(maxLength).
 */
function stringAlt(min: number, max: number): Alt {
  const limit = max === Infinity ? Infinity : 4 * Math.floor(max);
  const checks = (ind: string, most: number) =>
    (min > 0 ? `${ind}if (n < ${min}) return -1;\n` : '') + (limit < most ? `${ind}if (n > ${limit}) return -1;\n` : '');
  return {
    cls: STR,
    test: '(t >= 0xa0 && t < 0xc0) || (t >= 0xd9 && t <= 0xdb)',
    body: (i) => {
      const j = i + '  ';
      return (
        `${i}if (t < 0xc0) {\n${j}n = t & 0x1f;\n${checks(j, 31)}${j}p += 1 + n;\n${i}}\n` +
        `${i}else if (t === 0xd9) {\n${j}n = s[p + 1];\n${checks(j, 0xff)}${j}p += 2 + n;\n${i}}\n` +
        `${i}else if (t === 0xda) {\n${j}n = (s[p + 1] << 8) | s[p + 2];\n${checks(j, 0xffff)}${j}p += 3 + n;\n${i}}\n` +
        `${i}else {\n${j}n = u32(s, p + 1);\n${checks(j, 0xffffffff)}${j}p += 5 + n;\n${i}}\n`
      );
    },
  };
}

function binAlt(min: number, max: number): Alt {
  const checks = (ind: string) => (min > 0 ? `${ind}if (n < ${min}) return -1;\n` : '') + (max !== Infinity ? `${ind}if (n > ${max}) return -1;\n` : '');
  return {
    cls: BIN,
    test: 't >= 0xc4 && t <= 0xc6',
    body: (i) =>
      `${i}if (t === 0xc4) { n = s[p + 1]; p += 2; }\n` +
      `${i}else if (t === 0xc5) { n = (s[p + 1] << 8) | s[p + 2]; p += 3; }\n` +
      `${i}else { n = u32(s, p + 1); p += 5; }\n` +
      checks(i) +
      `${i}p += n;\n`,
  };
}

/** Alternatives that take any value of the classes in `cls` without judging it but for its structure. */
function skipAlts(cls: number): Alt[] {
  const tests: string[] = [];
  if (cls & NIL) tests.push('t === 0xc0');
  if (cls & BOOL) tests.push('t === 0xc2 || t === 0xc3');
  if (cls & INT) tests.push('t < 0x80 || t >= 0xe0 || (t >= 0xcc && t <= 0xce) || (t >= 0xd0 && t <= 0xd2)');
  if (cls & FLOAT) tests.push('t === 0xca || t === 0xcb');
  if (cls & BIG) tests.push('t === 0xcf || t === 0xd3');
  if (cls & STR) tests.push('(t >= 0xa0 && t < 0xc0) || (t >= 0xd9 && t <= 0xdb)');
  if (cls & BIN) tests.push('(t >= 0xc4 && t <= 0xc6)');
  if (cls & ARR) tests.push(ARR_TEST);
  if (cls & MAP) tests.push(MAP_TEST);
  if (tests.length === 0) return [];
  return [{ cls, test: tests.map((x) => `(${x})`).join(' || '), body: (i) => `${i}p = skip(s, p, E, 1);\n${i}if (p < 0) return -1;\n` }];
}

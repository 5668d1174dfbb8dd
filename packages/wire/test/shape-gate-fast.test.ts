/**
 * The shape gate's generated fast path (shape-gate-fast.ts): it confirms valid payloads on its own,
 * and the gate's verdicts (with path and detail) stay the interpreter's.
 */
import { Type, type TSchema } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { pack } from '../src/index.js';
import { exampleRegistry } from '../src/examples.js';
import * as msgpack from '../src/msgpack.js';
import { compileShapeGate, compileShapeGateInterpreter } from '../src/shape-gate.js';
import { compileFastPath, skipValues } from '../src/shape-gate-fast.js';
import { compileNode } from '../src/shape-gate-node.js';
import { bigint64, example1, messageexp, polymorph } from './helpers.js';

/** Shaped like packages/trace's TraceBatch (which the wire package cannot import). */
const FieldValue = Type.Union([Type.String({ maxLength: 4096 }), Type.Number(), Type.Boolean(), Type.BigInt()]);
const Event = Type.Object(
  {
    seq: Type.Integer({ minimum: 0 }),
    ts: Type.BigInt(),
    origTs: Type.BigInt(),
    kind: Type.String({ maxLength: 8 }),
    text: Type.Optional(Type.String({ maxLength: 16 })),
    fields: Type.Optional(Type.Record(Type.String(), FieldValue, { maxProperties: 16 })),
  },
  { additionalProperties: false },
);
const Batch = Type.Object(
  { source: Type.String({ minLength: 1, maxLength: 256 }), events: Type.Array(Event, { maxItems: 8 }), watermark: Type.Optional(Type.BigInt()) },
  { additionalProperties: false },
);

const event = fc.record(
  {
    seq: fc.nat(),
    ts: bigint64,
    origTs: bigint64,
    kind: fc.string({ maxLength: 8 }),
    text: fc.string({ unit: 'binary', maxLength: 16 }).filter((s) => s.length <= 16),
    fields: fc.dictionary(
      fc.string({ unit: 'binary', maxLength: 6 }),
      fc.oneof(fc.string({ maxLength: 40 }), fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean(), bigint64),
      { maxKeys: 4 },
    ),
  },
  { requiredKeys: ['seq', 'ts', 'origTs', 'kind'] },
);
const batch = fc.record(
  { source: fc.string({ minLength: 1, maxLength: 40 }), events: fc.array(event, { maxLength: 8 }), watermark: bigint64 },
  { requiredKeys: ['source', 'events'] },
);

const schemas: Record<string, [TSchema, fc.Arbitrary<unknown>]> = {
  batch: [Batch, batch],
  example1: [exampleRegistry.messages.example1.schema, example1],
  messageexp: [exampleRegistry.messages.messageexp.schema, messageexp],
  polymorph: [exampleRegistry.messages.polymorph.schema, polymorph],
};

/**
 * A MessagePack encoder that picks, at random, any header wide enough (str 8 for a short
 * string, map 16 for a small map, uint 32 for 1, float 64 for an integer…): valid payloads
 * msgpackr never writes, which must pass the fast path as well.
 */
function packWide(v: unknown, pick: () => number): Buffer {
  const out: number[] = [];
  const be = (n: number | bigint, bytes: number) => {
    for (let i = bytes - 1; i >= 0; i--) out.push(Number((BigInt(n) >> BigInt(8 * i)) & 0xffn));
  };
  const header = (n: number, fix: number | undefined, fixMax: number, h8: number | undefined, h16: number, h32: number) => {
    const forms: (() => void)[] = [];
    if (fix !== undefined && n <= fixMax) forms.push(() => out.push(fix | n));
    if (h8 !== undefined && n <= 0xff)
      forms.push(() => {
        out.push(h8);
        be(n, 1);
      });
    if (n <= 0xffff)
      forms.push(() => {
        out.push(h16);
        be(n, 2);
      });
    forms.push(() => {
      out.push(h32);
      be(n, 4);
    });
    forms[pick() % forms.length]!();
  };
  const float64 = (x: number) => {
    const b = Buffer.alloc(8);
    b.writeDoubleBE(x);
    out.push(0xcb, ...b);
  };
  const go = (x: unknown): void => {
    if (x === null) out.push(0xc0);
    else if (typeof x === 'boolean') out.push(x ? 0xc3 : 0xc2);
    else if (typeof x === 'bigint') {
      out.push(x > 2n ** 63n - 1n ? 0xcf : 0xd3);
      be(BigInt.asUintN(64, x), 8);
    } else if (typeof x === 'number') {
      const forms: (() => void)[] = [() => float64(x)];
      if (Number.isInteger(x) && !Object.is(x, -0)) {
        if (x >= 0 && x < 0x80) forms.push(() => out.push(x));
        if (x >= -32 && x < 0) forms.push(() => out.push(x & 0xff));
        if (x >= 0 && x <= 0xff)
          forms.push(() => {
            out.push(0xcc);
            be(x, 1);
          });
        if (x >= 0 && x <= 0xffff)
          forms.push(() => {
            out.push(0xcd);
            be(x, 2);
          });
        if (x >= 0 && x <= 0xffffffff)
          forms.push(() => {
            out.push(0xce);
            be(x, 4);
          });
        if (x >= -128 && x <= 127)
          forms.push(() => {
            out.push(0xd0);
            be(x & 0xff, 1);
          });
        if (x >= -32768 && x <= 32767)
          forms.push(() => {
            out.push(0xd1);
            be(x & 0xffff, 2);
          });
        if (x >= -(2 ** 31) && x < 2 ** 31)
          forms.push(() => {
            out.push(0xd2);
            be(x >>> 0, 4);
          });
      }
      forms[pick() % forms.length]!();
    } else if (typeof x === 'string') {
      const b = Buffer.from(x, 'utf8');
      header(b.length, 0xa0, 31, 0xd9, 0xda, 0xdb);
      out.push(...b);
    } else if (x instanceof Uint8Array) {
      header(x.length, undefined, 0, 0xc4, 0xc5, 0xc6);
      out.push(...x);
    } else if (Array.isArray(x)) {
      header(x.length, 0x90, 15, undefined, 0xdc, 0xdd);
      x.forEach(go);
    } else {
      const entries = Object.entries(x as object).filter(([, e]) => e !== undefined);
      header(entries.length, 0x80, 15, undefined, 0xde, 0xdf);
      for (const [k, e] of entries) {
        go(k);
        go(e);
      }
    }
  };
  go(v);
  return Buffer.from(out);
}

function reference(check: ReturnType<typeof TypeCompiler.Compile>, p: Uint8Array): 'accept' | 'refuse' {
  let v: unknown;
  try {
    v = msgpack.unpack(p);
  } catch {
    return 'refuse';
  }
  return check.Check(v) ? 'accept' : 'refuse';
}

describe('shape gate fast path', () => {
  it('confirms valid payloads on its own, in any header width', () => {
    for (const [name, [schema, arb]] of Object.entries(schemas)) {
      const fast = compileFastPath(compileNode(schema));
      const check = TypeCompiler.Compile(schema);
      fc.assert(
        fc.property(arb, fc.infiniteStream(fc.nat()), (v, picks) => {
          const p = pack(v);
          expect(fast(p, 0, p.length), name).toBe(p.length);
          const it = picks[Symbol.iterator]();
          const wide = packWide(v, () => it.next().value as number);
          expect(reference(check, wide), wide.toString('hex')).toBe('accept');
          expect(fast(wide, 0, wide.length), wide.toString('hex')).toBe(wide.length);
        }),
        { numRuns: 300 },
      );
    }
  });

  it("gives the interpreter's verdicts, path and detail included, on mutated payloads in a larger buffer", () => {
    for (const [name, [schema, arb]] of Object.entries(schemas)) {
      const gate = compileShapeGate(schema);
      const interpreter = compileShapeGateInterpreter(schema);
      const mutated = fc
        .tuple(
          arb,
          fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
          fc.nat(8),
          fc.uint8Array({ maxLength: 6 }),
          fc.uint8Array({ maxLength: 6 }),
        )
        .map(([v, edits, cut, before, after]) => {
          const p = Buffer.from(pack(v));
          for (const [at, byte] of edits) p[at % p.length] = byte;
          const body = cut === 0 ? p.subarray(0, Math.max(0, p.length - 1)) : cut === 1 ? p.subarray(0, Math.floor(p.length / 2)) : p;
          return { buf: Buffer.concat([before, body, after]), start: before.length, end: before.length + body.length };
        });
      fc.assert(
        fc.property(mutated, ({ buf, start, end }) => {
          expect(gate.check(buf, start, end), name).toEqual(interpreter.check(buf, start, end));
        }),
        { numRuns: 1500 },
      );
    }
  });

  it("gives the interpreter's verdicts on random values against odd schemas", () => {
    const odd: TSchema[] = [
      Type.Object({}),
      Type.Object({}, { additionalProperties: false }),
      Type.Object({ a: Type.Optional(Type.String({ maxLength: 2 })) }),
      Type.Object({ '0': Type.Integer() }),
      Type.Object({ a: Type.Integer(), b: Type.Optional(Type.Null()) }, { additionalProperties: false }),
      Type.Record(Type.String(), Type.Integer()),
      Type.Record(Type.String(), Type.Unknown()),
      Type.Union([Type.String({ maxLength: 3 }), Type.Array(Type.Integer(), { maxItems: 2 }), Type.Null()]),
      Type.Union([Type.Integer(), Type.Number(), Type.Literal('x'), Type.Object({ k: Type.Boolean() })]),
      Type.Tuple([Type.BigInt(), Type.Uint8Array({ maxByteLength: 2 })]),
      Type.Literal('ab'),
      Type.Array(Type.Object({ k: Type.Boolean() }), { minItems: 1 }),
      Type.Array(Type.Unknown(), { maxItems: 3 }),
      Type.Uint8Array({ minByteLength: 1, maxByteLength: 3 }),
    ];
    const value = fc.letrec((tie) => ({
      v: fc.oneof(
        { depthSize: 'small' },
        fc.constant(null),
        fc.boolean(),
        fc.integer(),
        fc.double({ noNaN: true }),
        bigint64,
        fc.string({ maxLength: 5 }),
        fc.uint8Array({ maxLength: 4 }).map((u) => Buffer.from(u)),
        fc.array(tie('v'), { maxLength: 3 }),
        fc.dictionary(fc.oneof(fc.constantFrom('a', 'b', 'k', '0', '__proto__', 'é', 'x\ny'), fc.string({ maxLength: 2 })), tie('v'), { maxKeys: 3 }),
      ),
    })).v;
    for (const schema of odd) {
      const gate = compileShapeGate(schema);
      const interpreter = compileShapeGateInterpreter(schema);
      fc.assert(
        fc.property(value, fc.infiniteStream(fc.nat()), (v, picks) => {
          const p = pack(v);
          expect(gate.check(p, 0, p.length)).toEqual(interpreter.check(p, 0, p.length));
          const it = picks[Symbol.iterator]();
          const wide = packWide(v, () => it.next().value as number);
          expect(gate.check(wide, 0, wide.length)).toEqual(interpreter.check(wide, 0, wide.length));
        }),
        { numRuns: 300 },
      );
    }
  });

  it('skips values as the interpreter does, failing on extension types, 0xc1 and counts beyond the bytes', () => {
    expect(skipValues(Buffer.from('93c0c2a161', 'hex'), 0, 5, 1)).toBe(5);
    expect(skipValues(Buffer.from('9301d40000', 'hex'), 0, 5, 1)).toBe(-4); // fixext 1 at byte 2
    expect(skipValues(Buffer.from('92c101', 'hex'), 0, 3, 1)).toBe(-3); // 0xc1 at byte 1
    expect(skipValues(Buffer.from('dd0000000201', 'hex'), 0, 6, 1)).toBe(-1);
    expect(skipValues(Buffer.from('a3616263', 'hex'), 0, 3, 1)).toBe(-1); // the end cuts the string
    expect(skipValues(Buffer.from('8080909001', 'hex'), 0, 5, 5)).toBe(5);
  });
});

describe('shape gate: map keys that are not strings', () => {
  // msgpackr turns a key 1 into '1', nil into 'null', true into 'true', 5n into '5' (asSafeString).
  const key = fc.oneof(
    fc.constantFrom<unknown>(1, 0, -1, 1.5, -1.5, 1e21, null, true, false, 5n, -(2n ** 63n), 'a', '1', 'null', 'true', '-1.5', '5'),
    fc.integer({ min: -3, max: 3 }),
  );
  const mapOf = fc
    .array(fc.tuple(key, fc.oneof(fc.integer({ min: -2, max: 2 }), fc.string({ maxLength: 2 }), fc.boolean())), { maxLength: 4 })
    .map((e) => new Map(e));
  const schemas: TSchema[] = [
    Type.Object(
      { '1': Type.Optional(Type.Integer()), null: Type.Optional(Type.String()), true: Type.Optional(Type.Boolean()), a: Type.Optional(Type.Integer()) },
      { additionalProperties: false },
    ),
    Type.Object({ '-1.5': Type.Optional(Type.Integer()), '5': Type.Optional(Type.Integer()) }, { additionalProperties: false }),
    Type.Object({ a: Type.Optional(Type.Integer()) }, { additionalProperties: false }),
    Type.Object({ a: Type.Integer() }),
    Type.Object({ '1': Type.Integer() }),
    Type.Record(Type.String(), Type.Integer()),
  ];

  it('are judged exactly: refused only where msgpackr + TypeBox refuse', () => {
    for (const schema of schemas) {
      const check = TypeCompiler.Compile(schema);
      const gate = compileShapeGate(schema);
      fc.assert(
        fc.property(mapOf, (m) => {
          const p = pack(m);
          const refused = gate.check(p, 0, p.length);
          const want = reference(check, p);
          if (want === 'accept') expect(refused, p.toString('hex')).toBeUndefined();
          if (refused) expect(want).toBe('refuse');
        }),
        { numRuns: 500 },
      );
    }
  });

  it('refuse a closed object at the first key that cannot be one of its names', () => {
    const gate = compileShapeGate(Batch);
    // {1: 1} × 2^20 where the batch is expected: refused at the first key.
    const bomb = Buffer.concat([Buffer.from('df00100000', 'hex'), Buffer.alloc(1 << 21, 0x01)]);
    expect(gate.check(bomb, 0, bomb.length)).toEqual({
      kind: 'schema',
      path: '/*',
      detail: 'a property the schema does not declare (additionalProperties: false)',
    });
    // A number key that may be a declared name ('1') is left to msgpackr + TypeBox.
    const one = compileShapeGate(Type.Object({ '1': Type.String() }, { additionalProperties: false }));
    for (const v of ['x', 2]) {
      const p = pack(new Map([[1, v]]));
      expect(one.check(p, 0, p.length)).toBeUndefined();
    }
  });
});

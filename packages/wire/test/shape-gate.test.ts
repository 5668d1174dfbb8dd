/** The shape gate (shape-gate.ts): payloads that cannot fit a schema are refused before msgpackr builds them. */
import { Type, type TSchema } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { Codec, DecodeError, SchemaViolationError, decodeErrorPayload, decodeHello, pack } from '../src/index.js';
import { exampleRegistry } from '../src/examples.js';
import { compileShapeGate } from '../src/shape-gate.js';
import * as msgpack from '../src/msgpack.js';
import { RUNS, bigint64, example1, messageexp, polymorph } from './helpers.js';

const codec = new Codec(exampleRegistry);
const ex1 = exampleRegistry.message('example1');
const mexp = exampleRegistry.message('messageexp');
const sum = exampleRegistry.method('sum');

/** A schema shaped like the trace batch (closed objects, a record of a union, bigints). */
const Event = Type.Object(
  {
    seq: Type.Integer({ minimum: 0 }),
    ts: Type.BigInt(),
    kind: Type.String({ maxLength: 256 }),
    text: Type.Optional(Type.String()),
    fields: Type.Optional(Type.Record(Type.String(), Type.Union([Type.String(), Type.Number(), Type.Boolean(), Type.BigInt()]))),
  },
  { additionalProperties: false },
);
const Batch = Type.Object(
  { source: Type.String({ minLength: 1, maxLength: 256 }), events: Type.Array(Event), watermark: Type.Optional(Type.BigInt()) },
  { additionalProperties: false },
);
const checkBatch = TypeCompiler.Compile(Batch);
const batchCodec = new Codec((await import('../src/registry.js')).defineRegistry({ messages: { batch: { id: 1, schema: Batch } } }));
const batchEntry = batchCodec.registry.message('batch');

const SIZE = 1 << 20;
function header(t: number, width: number, n: number): Buffer {
  const b = Buffer.alloc(1 + width);
  b[0] = t;
  b.writeUIntBE(n, 1, width);
  return b;
}
/** Bombs of every kind, each filling about SIZE bytes. */
const bombs: Record<string, Buffer> = {
  bin8: Buffer.concat([header(0xc4, 1, 200), Buffer.alloc(200)]),
  bin16: Buffer.concat([header(0xc5, 2, 60000), Buffer.alloc(60000)]),
  bin32: Buffer.concat([header(0xc6, 4, SIZE), Buffer.alloc(SIZE)]),
  str8: Buffer.concat([header(0xd9, 1, 200), Buffer.alloc(200, 0x41)]),
  str16: Buffer.concat([header(0xda, 2, 60000), Buffer.alloc(60000, 0x41)]),
  str32: Buffer.concat([header(0xdb, 4, SIZE), Buffer.alloc(SIZE, 0x41)]),
  array16Nil: Buffer.concat([header(0xdc, 2, 60000), Buffer.alloc(60000, 0xc0)]),
  array32Nil: Buffer.concat([header(0xdd, 4, SIZE), Buffer.alloc(SIZE, 0xc0)]),
  array32Int: Buffer.concat([header(0xdd, 4, SIZE), Buffer.alloc(SIZE, 0x01)]),
  array32Arrays: Buffer.concat([header(0xdd, 4, SIZE), Buffer.alloc(SIZE, 0x90)]),
  array32Maps: Buffer.concat([header(0xdd, 4, SIZE), Buffer.alloc(SIZE, 0x80)]),
  map16: Buffer.concat([header(0xde, 2, 30000), Buffer.alloc(60000, 0x01)]),
  map32: Buffer.concat([header(0xdf, 4, SIZE / 2), Buffer.alloc(SIZE, 0x01)]),
  float64: Buffer.from('cb3ff8000000000000', 'hex'),
  int64: Buffer.from('d30000000000000005', 'hex'),
  uint8: Buffer.from('ccff', 'hex'),
  nil: Buffer.from('c0', 'hex'),
  deepArrays: Buffer.alloc(SIZE, 0x91),
};
/** Where bombs land in a batch: at the root, as `events`, as an event, as `source`, as a field. */
const prefix = (hex: string) => Buffer.from(hex, 'hex');
const SRC = 'a6' + Buffer.from('source').toString('hex');
const EVS = 'a6' + Buffer.from('events').toString('hex');
const places: Record<string, [(b: Buffer) => Buffer, string]> = {
  root: [(b) => b, ''],
  events: [(b) => Buffer.concat([prefix(`82${SRC}a167${EVS}`), b]), '/events'],
  event: [(b) => Buffer.concat([prefix(`82${SRC}a167${EVS}91`), b]), '/events/0'],
  source: [(b) => Buffer.concat([prefix(`82${EVS}90${SRC}`), b]), '/source'],
  eventFirst: [(b) => Buffer.concat([prefix(`82${EVS}91`), b, prefix(`${SRC}a167`)]), '/events/0'],
};

function verdict(f: () => unknown): string {
  try {
    f();
    return 'accept';
  } catch (e) {
    if (e instanceof DecodeError || e instanceof SchemaViolationError) return e.code;
    throw e;
  }
}

describe('shape gate: bombs', () => {
  for (const [place, [wrap, path]] of Object.entries(places)) {
    for (const [name, bomb] of Object.entries(bombs)) {
      if (place === 'source' && name === 'str8') continue; // 200 characters fit maxLength 256: valid
      it(`refuses ${name} at ${place} of a batch with a typed error and its path, without msgpackr`, () => {
        const payload = wrap(bomb);
        const spy = vi.spyOn(msgpack, 'unpack');
        let err: unknown;
        try {
          batchCodec.decodeMessageAt(batchEntry, payload, 0, payload.length);
        } catch (e) {
          err = e;
        }
        // Counted before mockRestore, which clears the calls.
        const unpacked = spy.mock.calls.length;
        spy.mockRestore();
        expect(err).toBeInstanceOf(Error);
        if (err instanceof SchemaViolationError) {
          expect(err.code).toBe('SCHEMA_VIOLATION');
          // The never-closing nest swallows the keys after it, so what fails first is elsewhere.
          if (name !== 'deepArrays') expect(err.path.startsWith(path)).toBe(true);
          expect(err.direction).toBe('inbound');
        } else {
          // Truncation (deep nesting never closes; counts beyond the payload) is a decode error.
          expect(err).toBeInstanceOf(DecodeError);
          expect((err as DecodeError).code).toBe('DECODE_ERROR');
        }
        expect(unpacked).toBe(0);
      });
    }
  }

  it('refuses bombs where the example registry, HELLO and ErrorPayload expect objects, strings and arrays', () => {
    for (const bomb of [bombs.bin32!, bombs.str32!, bombs.array32Nil!, bombs.map32!]) {
      expect(() => codec.decodeMessageAt(mexp, bomb, 0, bomb.length)).toThrow(SchemaViolationError);
      expect(() => codec.decodeMessageAt(ex1, bomb, 0, bomb.length)).toThrow(SchemaViolationError);
      expect(() => codec.decodeMethodAt(sum, 'request', bomb, 0, bomb.length)).toThrow(SchemaViolationError);
      expect(() => decodeHello(bomb)).toThrow(SchemaViolationError);
      expect(() => decodeErrorPayload(bomb)).toThrow(SchemaViolationError);
    }
    // A string with maxLength 65 cannot be a megabyte: refused at its header.
    const big = Buffer.concat([
      prefix('82a9' + Buffer.from('timestamp').toString('hex') + 'd30000000000000001a3' + Buffer.from('str').toString('hex')),
      bombs.str32!,
    ]);
    const err = (() => {
      try {
        codec.decodeMessageAt(mexp, big, 0, big.length);
      } catch (e) {
        return e;
      }
    })() as SchemaViolationError;
    expect(err).toBeInstanceOf(SchemaViolationError);
    expect(err.path).toBe('/str');
  });

  it('refuses an array claiming 4 Gi items in a few bytes as truncated, without building it', () => {
    const spy = vi.spyOn(msgpack, 'unpack');
    const claim = Buffer.from('81a5' + Buffer.from('items').toString('hex') + 'ddffffffff80', 'hex');
    // A count beyond the bytes left is a cut-short value: a decode error, whatever maxItems says.
    expect(() => codec.decodeMethodAt(sum, 'request', claim, 0, claim.length)).toThrow(DecodeError);
    // A count that fits the bytes but not maxItems 10000 is refused by the count alone.
    const many = Buffer.concat([Buffer.from('81a5' + Buffer.from('items').toString('hex') + 'dc4e21', 'hex'), Buffer.alloc(20001, 0x80)]);
    expect(() => codec.decodeMethodAt(sum, 'request', many, 0, many.length)).toThrow(SchemaViolationError);
    // `events` declares no bound: 4 Gi items cannot fit in the bytes left.
    const events = Buffer.concat([prefix(`82${SRC}a167${EVS}ddffffffff80`)]);
    expect(() => batchCodec.decodeMessageAt(batchEntry, events, 0, events.length)).toThrow(DecodeError);
    expect(spy).not.toHaveBeenCalled();
    spy.mockRestore();
  });

  it('refuses extension types and 0xc1 anywhere, even where the schema admits anything (PROTOCOL.md §3)', () => {
    for (const hex of ['d6ff00000001', 'd40000', 'c1', 'd74200000000000000ff']) {
      const p = Buffer.from(
        '83a4' + Buffer.from('code').toString('hex') + 'a0a7' + Buffer.from('message').toString('hex') + 'a0a7' + Buffer.from('details').toString('hex') + hex,
        'hex',
      );
      expect(() => decodeErrorPayload(p)).toThrow(DecodeError);
    }
  });

  it('a refused property replaced by a later duplicate key is accepted, as msgpackr keeps the last', () => {
    const p = Buffer.concat([prefix(`83${EVS}`), bombs.bin8!, prefix(`${SRC}a167${EVS}90`)]);
    expect(batchCodec.decodeMessageAt(batchEntry, p, 0, p.length)).toEqual({ source: 'g', events: [] });
  });
});

/** The verdict of msgpackr + TypeBox alone, as before the gate, for payloads without extension types. */
function reference(check: ReturnType<typeof TypeCompiler.Compile>, p: Uint8Array): string {
  let v: unknown;
  try {
    v = msgpack.unpack(p);
  } catch {
    return 'DECODE_ERROR';
  }
  return check.Check(v) ? 'accept' : 'SCHEMA_VIOLATION';
}
/** Whether msgpackr built a value only an extension type or 0xc1 yields (the gate refuses those). */
function hasExtValue(p: Uint8Array): boolean {
  let v: unknown;
  try {
    v = msgpack.unpack(p);
  } catch {
    return false;
  }
  const walk = (x: unknown): boolean =>
    x === undefined ||
    x instanceof Date ||
    (typeof x === 'object' && x !== null && !(x instanceof Uint8Array) && !Array.isArray(x) && Object.getPrototypeOf(x) !== Object.prototype) ||
    (x instanceof Uint8Array && !Buffer.isBuffer(x)) ||
    (Array.isArray(x) ? x.some(walk) : typeof x === 'object' && x !== null && !(x instanceof Uint8Array) ? Object.values(x).some(walk) : false);
  return walk(v);
}

const event = fc.record(
  {
    seq: fc.nat(),
    ts: bigint64,
    kind: fc.string({ maxLength: 8 }),
    text: fc.string({ maxLength: 8 }),
    fields: fc.dictionary(fc.string({ maxLength: 4 }), fc.oneof(fc.string({ maxLength: 4 }), fc.integer(), fc.boolean(), bigint64), { maxKeys: 3 }),
  },
  { requiredKeys: ['seq', 'ts', 'kind'] },
);
const batch = fc.record(
  { source: fc.string({ minLength: 1, maxLength: 8 }), events: fc.array(event, { maxLength: 4 }), watermark: bigint64 },
  { requiredKeys: ['source', 'events'] },
);

function agrees(schemaCheck: ReturnType<typeof TypeCompiler.Compile>, decode: (p: Buffer) => unknown, p: Buffer): void {
  const want = reference(schemaCheck, p);
  const got = verdict(() => decode(p));
  if (want === 'accept') {
    // The gate's own refusals: extension types and 0xc1 (PROTOCOL.md §3).
    if (got !== 'accept') expect(hasExtValue(p)).toBe(true);
  } else {
    expect(got).not.toBe('accept');
  }
}

describe('shape gate agrees with msgpackr + TypeBox', () => {
  it('valid values decode as before', () => {
    fc.assert(
      fc.property(batch, (b) => {
        const p = pack(b);
        expect(batchCodec.decodeMessageAt(batchEntry, p, 0, p.length)).toEqual(msgpack.unpack(p));
      }),
      RUNS,
    );
    for (const [arb, entry] of [
      [messageexp, mexp],
      [example1, ex1],
      [polymorph, exampleRegistry.message('polymorph')],
    ] as const) {
      fc.assert(
        fc.property(arb, (v) => {
          const p = pack(v);
          expect(codec.decodeMessageAt(entry, p, 0, p.length)).toEqual(msgpack.unpack(p));
        }),
        RUNS,
      );
    }
  });

  it('byte mutations get the same verdict', () => {
    const mutated = (arb: fc.Arbitrary<unknown>) =>
      fc.tuple(arb, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }), fc.nat(8)).map(([v, edits, cut]) => {
        const p = Buffer.from(pack(v));
        for (const [at, byte] of edits) p[at % p.length] = byte;
        return cut === 0 ? p.subarray(0, Math.max(0, p.length - 1)) : p;
      });
    fc.assert(
      fc.property(mutated(batch), (p) => agrees(checkBatch, (q) => batchCodec.decodeMessageAt(batchEntry, q, 0, q.length), p)),
      { numRuns: 1500 },
    );
    const checkEx1 = TypeCompiler.Compile(exampleRegistry.messages.example1.schema);
    fc.assert(
      fc.property(mutated(example1), (p) => agrees(checkEx1, (q) => codec.decodeMessageAt(ex1, q, 0, q.length), p)),
      { numRuns: 800 },
    );
    const checkPoly = TypeCompiler.Compile(exampleRegistry.messages.polymorph.schema);
    const poly = exampleRegistry.message('polymorph');
    fc.assert(
      fc.property(mutated(polymorph), (p) => agrees(checkPoly, (q) => codec.decodeMessageAt(poly, q, 0, q.length), p)),
      { numRuns: 800 },
    );
  });

  it('random MessagePack values against odd schemas get the same verdict', () => {
    const schemas: TSchema[] = [
      Type.Object({}),
      Type.Object({}, { additionalProperties: false }),
      Type.Object({ a: Type.Optional(Type.String({ maxLength: 2 })) }),
      Type.Object({ '0': Type.Integer() }),
      Type.Record(Type.String(), Type.Integer()),
      Type.Union([Type.String({ maxLength: 3 }), Type.Array(Type.Integer(), { maxItems: 2 }), Type.Null()]),
      Type.Tuple([Type.BigInt(), Type.Uint8Array({ maxByteLength: 2 })]),
      Type.Literal('ab'),
      Type.Array(Type.Object({ k: Type.Boolean() }), { minItems: 1 }),
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
        fc.dictionary(fc.oneof(fc.constantFrom('a', 'k', '0', '__proto__', 'é', 'x\ny'), fc.string({ maxLength: 2 })), tie('v'), { maxKeys: 3 }),
      ),
    })).v;
    for (const schema of schemas) {
      const check = TypeCompiler.Compile(schema);
      const gate = compileShapeGate(schema);
      fc.assert(
        fc.property(value, (v) => {
          const p = pack(v);
          const refused = gate.check(p, 0, p.length);
          if (refused) expect(reference(check, p)).not.toBe('accept');
        }),
        { numRuns: 300 },
      );
    }
  });
});

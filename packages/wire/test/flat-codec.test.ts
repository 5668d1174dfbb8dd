/**
 * The compiled flat codec must be indistinguishable from msgpackr: the same bytes for a value
 * written in schema order, the same decoded value for any byte string msgpackr can read, and a
 * fallback (never a wrong answer) for everything it does not handle itself.
 */
import { Type } from '@sinclair/typebox';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Codec, SchemaViolationError, defineRegistry } from '../src/index.js';
import { FALLBACK, compileFlatCodec } from '../src/flat-codec.js';
import { packr } from '../src/msgpack.js';

const Flat = Type.Object({
  big: Type.BigInt(),
  text: Type.String(),
  int: Type.Integer(),
  num: Type.Number(),
  flag: Type.Boolean(),
  maybe: Type.Optional(Type.String()),
});
const flat = compileFlatCodec(Flat)!;

const int64 = fc.bigInt({ min: -(2n ** 63n), max: 2n ** 64n - 1n });
const text = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 300 }),
  fc.string({ unit: 'grapheme-ascii', minLength: 30, maxLength: 300 }),
);
const number = fc.oneof(
  fc.integer(),
  fc.integer({ min: -(2 ** 31), max: 2 ** 32 - 1 }),
  fc.double(),
  fc.constantFrom(0, -0, 127, 128, 255, 256, 65535, 65536, -32, -33, -128, -129, -32768, -32769, 2 ** 31, 2 ** 53),
);
const value = fc.record(
  { big: int64, text, int: fc.integer(), num: number, flag: fc.boolean(), maybe: text },
  { requiredKeys: ['big', 'text', 'int', 'num', 'flag'] },
);

describe('flat codec', () => {
  it('writes exactly the bytes msgpackr writes for the same object', () => {
    fc.assert(
      fc.property(value, (v) => {
        const bytes = flat.encode(v);
        expect(bytes).toBeDefined();
        expect(Buffer.from(bytes!).toString('hex')).toBe(packr.pack(v).toString('hex'));
      }),
      { numRuns: 2000 },
    );
  });

  it('decodes whatever msgpackr writes (any key order) to what msgpackr reads', () => {
    fc.assert(
      fc.property(value, fc.boolean(), fc.boolean(), (v, reverse, bigChunk) => {
        const ordered = reverse ? Object.fromEntries(Object.entries(v).reverse()) : v;
        const bytes = packr.pack(ordered);
        // Inside a larger chunk, as the decoder sees frames; small and large chunks read
        // int64 by different paths (by hand, or through a DataView shared by the chunk).
        const chunk = Buffer.concat([Buffer.from([1, 2, 3]), bytes, Buffer.alloc(bigChunk ? 2048 : 2, 9)]);
        const got = flat.decode(chunk, 3, 3 + bytes.length);
        expect(got).not.toBe(FALLBACK);
        expect(got).toEqual(packr.unpack(bytes));
      }),
      { numRuns: 2000 },
    );
  });

  it('reads every number encoding msgpack has, signed and unsigned, float 32 included', () => {
    const at = (num: Buffer) => {
      // { big: 1n, text: 'a', int: 1, num: <num>, flag: true }, with num's bytes spliced in by hand
      const head = packr.pack({ big: 1n, text: 'a', int: 1 });
      head[0] = 0x85; // a map of 5
      const bytes = Buffer.concat([head, packr.pack('num'), num, packr.pack('flag'), packr.pack(true)]);
      return (flat.decode(bytes, 0, bytes.length) as { num: number }).num;
    };
    expect(at(Buffer.from([0xd0, 0x80]))).toBe(-128);
    expect(at(Buffer.from([0xd1, 0x80, 0x00]))).toBe(-32768);
    expect(at(Buffer.from([0xd2, 0x80, 0, 0, 0]))).toBe(-(2 ** 31));
    expect(at(Buffer.from([0xce, 0xff, 0xff, 0xff, 0xff]))).toBe(2 ** 32 - 1);
    expect(at(Buffer.from([0xca, 0x3f, 0xc0, 0, 0]))).toBe(1.5);
    expect(at(Buffer.from([0xca, 0xc0, 0x49, 0x0f, 0xdb]))).toBeCloseTo(-Math.PI, 6);
    expect(at(Buffer.from([0xcb, 0x40, 0x09, 0x21, 0xfb, 0x54, 0x44, 0x2d, 0x18]))).toBe(Math.PI);
  });

  it('leaves to msgpackr what it does not handle itself', () => {
    expect(flat.encode({ big: 1n, text: 'a', int: 1, num: 1, flag: true, extra: 1 })).toBeUndefined();
    expect(flat.encode({ big: 1n, text: 'a', int: 1, num: 1, flag: true, maybe: undefined })).toBeUndefined();
    expect(flat.encode({ big: 1, text: 'a', int: 1, num: 1, flag: true } as never)).toBeUndefined();
    // Outside 64 bits: never wrapped around; msgpackr's RangeError is the generic path's answer.
    expect(flat.encode({ big: 2n ** 64n, text: 'a', int: 1, num: 1, flag: true })).toBeUndefined();
    expect(flat.encode({ big: -(2n ** 63n) - 1n, text: 'a', int: 1, num: 1, flag: true })).toBeUndefined();
    const cases: Record<string, Buffer> = {
      'an unknown key': packr.pack({ big: 1n, text: 'a', int: 1, num: 1, flag: true, other: 1 }),
      'a nested map': packr.pack({ big: 1n, text: { a: 1 }, int: 1, num: 1, flag: true }),
      nil: packr.pack({ big: 1n, text: null, int: 1, num: 1, flag: true }),
      binary: packr.pack({ big: 1n, text: new Uint8Array([1]), int: 1, num: 1, flag: true }),
      'an array': packr.pack([1, 2]),
      'a scalar': packr.pack(5),
    };
    for (const [what, bytes] of Object.entries(cases)) expect(flat.decode(bytes, 0, bytes.length), what).toBe(FALLBACK);
    const good = packr.pack({ big: 1n, text: 'abc', int: 1, num: 1.5, flag: true });
    for (let cut = 0; cut < good.length; cut++) expect(flat.decode(good, 0, cut), `truncated at ${cut}`).toBe(FALLBACK);
    const trailing = Buffer.concat([good, Buffer.from([0xc0])]);
    expect(flat.decode(trailing, 0, trailing.length)).toBe(FALLBACK);
  });

  it('compiles only for flat object schemas', () => {
    expect(compileFlatCodec(Type.Object({ a: Type.Object({ b: Type.String() }) }))).toBeUndefined();
    expect(compileFlatCodec(Type.Object({ a: Type.Array(Type.String()) }))).toBeUndefined();
    expect(compileFlatCodec(Type.Object({ a: Type.Uint8Array() }))).toBeUndefined();
    expect(compileFlatCodec(Type.Union([Type.Object({ a: Type.String() }), Type.Object({ b: Type.String() })]))).toBeUndefined();
    expect(compileFlatCodec(Type.Object(Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`k${i}`, Type.String()]))))).toBeUndefined();
    expect(compileFlatCodec(Type.Object({ a: Type.String() }))).toBeDefined();
  });

  it('keeps the codec contract: a value that decodes but breaks its schema is a SchemaViolationError with its path', () => {
    const registry = defineRegistry({ messages: { m: { id: 1, schema: Type.Object({ ts: Type.BigInt(), str: Type.String({ maxLength: 3 }) }) } } });
    const codec = new Codec(registry);
    const entry = registry.message('m');
    const bytes = packr.pack({ ts: 1n, str: 'toolong' });
    let err: unknown;
    try {
      codec.decodeMessageAt(entry, bytes, 0, bytes.length);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SchemaViolationError);
    expect((err as SchemaViolationError).path).toBe('/str');
    const wrongType = packr.pack({ ts: 5, str: 'ok' });
    expect(() => codec.decodeMessageAt(entry, wrongType, 0, wrongType.length)).toThrow(SchemaViolationError);
    const good = codec.encodeMessage('m', { ts: 2n ** 62n, str: 'abc' });
    expect(codec.decodeMessageAt(entry, good, 0, good.length)).toEqual({ ts: 2n ** 62n, str: 'abc' });
  });
});

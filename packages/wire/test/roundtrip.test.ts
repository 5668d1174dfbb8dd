/**
 * Round trip of every type of exampleRegistry (and of a test registry with binary, records and
 * nested optionals): Codec.encode* → FrameEncoder → bytes → FrameDecoder → Codec.decode*.
 */
import { Type } from '@sinclair/typebox';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { exampleRegistry } from '../src/examples.js';
import { Codec, Kind, defineRegistry, pack, unpack } from '../src/index.js';
import {
  RUNS,
  anyString,
  bigint64,
  bigints,
  binaries,
  decodeAll,
  encodeAll,
  example0,
  example1,
  example2,
  finiteDouble,
  messageexp,
  plain,
  polymorph,
  timestamps,
} from './helpers.js';

const codec = new Codec(exampleRegistry);

/** One message through the whole pipeline; returns the decoded value. */
function viaWire(c: Codec, name: string, value: unknown): unknown {
  const entry = c.registry.message(name);
  const payload = c.encodeEntry(entry, value);
  const { bytes } = encodeAll([{ kind: Kind.EVENT, type: entry.id, id: 0, payload }]);
  const frames = decodeAll([bytes]);
  expect(frames).toHaveLength(1);
  const f = frames[0]!;
  expect(f.kind).toBe(Kind.EVENT);
  expect(f.type).toBe(entry.id);
  const back = c.registry.messageById(f.type);
  expect(back).toBe(entry);
  return c.decodeMessage(back!, f.payload);
}

function expectSameValue(decoded: unknown, input: unknown): void {
  // bigints stay bigints (not numbers or strings), at the same places.
  expect(bigints(decoded)).toEqual(bigints(input));
  // binary stays binary.
  for (const b of binaries(decoded)) expect(b).toBeInstanceOf(Uint8Array);
  expect(binaries(decoded)).toHaveLength(binaries(input).length);
  expect(plain(decoded)).toEqual(plain(input));
}

describe('exampleRegistry round trip (property-based)', () => {
  const cases: [string, fc.Arbitrary<unknown>][] = [
    ['example0', example0],
    ['example1', example1],
    ['example2', example2],
    ['timestamps', timestamps],
    ['messageexp', messageexp],
    ['polymorph', polymorph],
  ];
  it('declares exactly these messages', () => {
    expect(exampleRegistry.messageNames().sort()).toEqual(cases.map(([n]) => n).sort());
    expect(exampleRegistry.methodNames().sort()).toEqual(['echo', 'sum']);
  });
  for (const [name, arb] of cases) {
    it(`${name}: decoded value deep-equals the input`, () => {
      fc.assert(
        fc.property(arb, (value) => {
          expectSameValue(viaWire(codec, name, value), value);
        }),
        RUNS,
      );
    });
  }

  it('covers the cases the schemas make interesting', () => {
    // ptr present and absent, every polymorph branch, bigints above 2^53 and in the uint64 range.
    expect(viaWire(codec, 'example2', { strvec: [], data: 0 })).toEqual({ strvec: [], data: 0 });
    expect(viaWire(codec, 'example2', { strvec: [{ str: '' }], data: -1, ptr: 1.5 })).toEqual({ strvec: [{ str: '' }], data: -1, ptr: 1.5 });
    expect('ptr' in (viaWire(codec, 'example2', { strvec: [], data: 0 }) as object)).toBe(false);
    for (const type of ['example0', 'example1', 'example2'] as const) {
      const value = type === 'example0' ? { str: 'x' } : { strvec: [{ str: 'y' }], data: 7 };
      expect(viaWire(codec, 'polymorph', { type, value })).toEqual({ type, value });
    }
    for (const t of [2n ** 53n + 1n, -(2n ** 63n), 2n ** 63n - 1n, 2n ** 63n, 2n ** 64n - 1n]) {
      const out = viaWire(codec, 'timestamps', { t1: t, t2: -1n }) as { t1: unknown; t2: unknown };
      expect(out.t1).toBe(t);
      expect(out.t2).toBe(-1n);
    }
    const long = 'é'.repeat(65);
    expect(viaWire(codec, 'messageexp', { timestamp: 1n, str: long })).toEqual({ timestamp: 1n, str: long });
  });

  it('an absent optional property is omitted, never nil; bigints are int 64 whatever their size', () => {
    const bytes = codec.encodeMessage('example2', { strvec: [], data: 1, ptr: undefined });
    expect(bytes.includes(0xc0)).toBe(false); // no nil anywhere
    expect(unpack(bytes)).toEqual({ strvec: [], data: 1 });
    const small = codec.encodeMessage('timestamps', { t1: 5n, t2: 2n ** 63n });
    // 82 a2 t1 d3 <8> a2 t2 cf <8>
    expect(small.subarray(4, 5)).toEqual(Buffer.from([0xd3]));
    expect(small.subarray(4 + 9 + 3, 4 + 9 + 4)).toEqual(Buffer.from([0xcf]));
  });

  it("no extension types: an undefined outside the schema travels as nil, never as msgpackr's fixext", () => {
    // TypeBox objects accept additional properties, so such a value passes the outbound check.
    const value = { timestamp: 1n, str: 'x', extra: undefined } as unknown as { timestamp: bigint; str: string };
    for (const bytes of [
      codec.encodeMessage('messageexp', value),
      codec.encodeMessage('example1', { strvec: [{ str: 'a', note: undefined } as { str: string }], data: 1 }),
      codec.encodeMessage('example2', { strvec: [], data: 1, extra: undefined } as { strvec: []; data: number }),
      pack({ code: 'X', message: 'm', details: [undefined, { a: undefined }] }),
    ]) {
      expect(bytes.includes(Buffer.from([0xd4, 0x00, 0x00]))).toBe(false);
      expect(() => unpack(bytes)).not.toThrow();
    }
    expect(codec.decodeMessage(exampleRegistry.message('messageexp'), codec.encodeMessage('messageexp', value))).toMatchObject({ timestamp: 1n, str: 'x' });
  });

  it('numbers never travel as int 64 / uint 64', () => {
    fc.assert(
      fc.property(finiteDouble, (x) => {
        const b = pack(x);
        expect(b[0]).not.toBe(0xd3);
        expect(b[0]).not.toBe(0xcf);
        expect(unpack(b)).toBe(x);
      }),
      RUNS,
    );
  });

  it('−0 in a number field comes back as +0 (msgpackr encodes it as fixint 0): a known lossy case', () => {
    // Documents the behaviour rather than hiding it from the property tests above.
    const out = viaWire(codec, 'example2', { strvec: [], data: 0, ptr: -0 }) as { ptr: number };
    expect(Object.is(out.ptr, 0)).toBe(true);
  });

  it('methods: echo and sum, request with a deadline and response', () => {
    const sumItems = fc.array(example1, { maxLength: 5 });
    fc.assert(
      fc.property(
        messageexp,
        sumItems,
        finiteDouble,
        fc.integer({ min: 1, max: 0xffffffff }),
        fc.option(fc.integer({ min: 0, max: 0xffffffff }), { nil: undefined }),
        (echo, items, total, callId, deadlineMs) => {
          const echoE = exampleRegistry.method('echo');
          const sumE = exampleRegistry.method('sum');
          const { bytes } = encodeAll([
            { kind: Kind.REQUEST, type: echoE.id, id: callId, payload: codec.encodeRequest('echo', echo), deadlineMs },
            { kind: Kind.RESPONSE, type: echoE.id, id: callId, payload: codec.encodeResponse('echo', echo) },
            { kind: Kind.REQUEST, type: sumE.id, id: callId, payload: codec.encodeRequest('sum', { items }) },
            { kind: Kind.RESPONSE, type: sumE.id, id: callId, payload: codec.encodeResponse('sum', { total }) },
          ]);
          const frames = decodeAll([bytes]);
          expect(frames.map((f) => [f.kind, f.type, f.id])).toEqual([
            [Kind.REQUEST, 100, callId],
            [Kind.RESPONSE, 100, callId],
            [Kind.REQUEST, 101, callId],
            [Kind.RESPONSE, 101, callId],
          ]);
          expect(frames[0]!.deadlineMs).toBe(deadlineMs);
          expect(frames[2]!.deadlineMs).toBeUndefined();
          const e = exampleRegistry.methodById(frames[0]!.type)!;
          expectSameValue(codec.decodeMethod(e, 'request', frames[0]!.payload), echo);
          expectSameValue(codec.decodeMethod(e, 'response', frames[1]!.payload), echo);
          const s = exampleRegistry.methodById(frames[2]!.type)!;
          expectSameValue(codec.decodeMethod(s, 'request', frames[2]!.payload), { items });
          expectSameValue(codec.decodeMethod(s, 'response', frames[3]!.payload), { total });
        },
      ),
      RUNS,
    );
  });
});

describe('a custom registry: binary, records, nested arrays and optionals', () => {
  const Leaf = Type.Object({ n: Type.Integer(), blobs: Type.Optional(Type.Array(Type.Uint8Array())) });
  const registry = defineRegistry({
    messages: {
      blob: { id: 10, schema: Type.Object({ data: Type.Uint8Array(), tag: Type.Optional(Type.String()) }) },
      nested: {
        id: 11,
        schema: Type.Object({
          matrix: Type.Array(Type.Array(Type.BigInt())),
          byName: Type.Record(Type.String(), Leaf),
          inner: Type.Optional(Type.Object({ deep: Type.Optional(Type.Object({ ts: Type.BigInt(), note: Type.Optional(Type.String()) })) })),
          tuple: Type.Tuple([Type.Boolean(), Type.Null(), Type.Number()]),
        }),
      },
    },
    methods: {
      put: { id: 12, request: Type.Object({ key: Type.String(), value: Type.Uint8Array() }), response: Type.Object({ stored: Type.Array(Type.Uint8Array()) }) },
    },
  });
  const c = new Codec(registry);
  const key = anyString(12).filter((k) => k !== '__proto__');
  const leaf = fc.record({ n: fc.integer(), blobs: fc.array(fc.uint8Array({ maxLength: 40 }), { maxLength: 3 }) }, { requiredKeys: ['n'] });
  const nested = fc.record(
    {
      matrix: fc.array(fc.array(bigint64, { maxLength: 4 }), { maxLength: 4 }),
      byName: fc.dictionary(key, leaf, { maxKeys: 4, noNullPrototype: true }),
      inner: fc.record({ deep: fc.record({ ts: bigint64, note: anyString() }, { requiredKeys: ['ts'] }) }, { requiredKeys: [] }),
      tuple: fc.tuple(fc.boolean(), fc.constant(null), finiteDouble),
    },
    { requiredKeys: ['matrix', 'byName', 'tuple'] },
  );

  it('blob: Uint8Array stays Uint8Array, any size (inline and large frames)', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.uint8Array({ maxLength: 64 }), fc.uint8Array({ minLength: 4000, maxLength: 9000 })),
        fc.option(anyString(), { nil: undefined }),
        (data, tag) => {
          const value = tag === undefined ? { data } : { data, tag };
          const out = viaWire(c, 'blob', value) as { data: unknown };
          expect(out.data).toBeInstanceOf(Uint8Array);
          expectSameValue(out, value);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('nested: arrays of arrays of bigints, records, optional at every depth', () => {
    fc.assert(
      fc.property(nested, (value) => expectSameValue(viaWire(c, 'nested', value), value)),
      RUNS,
    );
  });

  it('method with binary request and response', () => {
    fc.assert(
      fc.property(anyString(), fc.uint8Array({ maxLength: 100 }), (k, v) => {
        const e = registry.method('put');
        const { bytes } = encodeAll([
          { kind: Kind.REQUEST, type: e.id, id: 1, payload: c.encodeRequest('put', { key: k, value: v }) },
          { kind: Kind.RESPONSE, type: e.id, id: 1, payload: c.encodeResponse('put', { stored: [v, v] }) },
        ]);
        const [q, r] = decodeAll([bytes]);
        expectSameValue(c.decodeMethod(e, 'request', q!.payload), { key: k, value: v });
        expectSameValue(c.decodeMethod(e, 'response', r!.payload), { stored: [v, v] });
      }),
      RUNS,
    );
  });

  it('decoded binary does not alias the frame payload (it may be a reused socket chunk)', () => {
    const entry = registry.message('blob');
    const payload = c.encodeMessage('blob', { data: new Uint8Array([1, 2, 3, 4]) });
    const { bytes } = encodeAll([{ kind: Kind.EVENT, type: entry.id, id: 0, payload }]);
    const frames = decodeAll([bytes]);
    const decoded = c.decodeMessage(entry, frames[0]!.payload) as { data: Uint8Array };
    frames[0]!.payload.fill(0xee); // the socket buffer is reused for the next read
    expect([...decoded.data]).toEqual([1, 2, 3, 4]);
  });
});

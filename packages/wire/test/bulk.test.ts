/**
 * BODY frames (PROTOCOL.md §12, feature "bulk"): a large binary field as a body behind its
 * frame's `[key, rest]`. The encoder hands the caller's buffer on as its own chunk; the decoder
 * reads the body into one buffer of exactly its size; a lying body length is a protocol error.
 */
import { Type } from '@sinclair/typebox';
import { describe, expect, it } from 'vitest';
import {
  BULK_MAX_VALUE,
  BULK_THRESHOLD,
  Codec,
  DecodeError,
  Flags,
  FrameDecoder,
  FrameEncoder,
  Kind,
  ProtocolError,
  defineRegistry,
  pack,
  type Frame,
} from '../src/index.js';

const registry = defineRegistry({
  messages: {
    blob: { id: 1, schema: Type.Object({ n: Type.Integer(), data: Type.Uint8Array(), extra: Type.Optional(Type.Uint8Array()) }) },
    text: { id: 2, schema: Type.Object({ s: Type.String() }) },
  },
});
const codec = new Codec(registry);
const blob = registry.message('blob');

function bulkFrame(value: unknown, threshold = BULK_THRESHOLD): { chunks: Buffer[]; bytes: Buffer } {
  const bulk = codec.encodeEntryBulk(blob, value, threshold)!;
  const enc = new FrameEncoder();
  enc.pushBulk(Kind.EVENT, blob.id, 0, bulk.value, bulk.body);
  const chunks = enc.take();
  return { chunks, bytes: Buffer.concat(chunks) };
}

function decodeAll(chunks: Buffer[], bulk = true): { frames: Frame[]; values: { n: number; data: Uint8Array; extra?: Uint8Array }[]; dec: FrameDecoder } {
  const frames: Frame[] = [];
  const values: { n: number; data: Uint8Array }[] = [];
  const dec = new FrameDecoder(
    (f) => {
      frames.push(f);
      values.push(codec.decodeMessageAt(blob, f.source, f.start, f.end, f.owned, f.body) as { n: number; data: Uint8Array });
    },
    { bulk },
  );
  for (const c of chunks) dec.push(c);
  return { frames, values, dec };
}

function header(length: number, flags: number, kind: number = Kind.EVENT): Buffer {
  const h = Buffer.alloc(12);
  h.writeUInt32LE(length, 0);
  h.writeUInt16LE(1, 4);
  h[6] = kind;
  h[7] = flags;
  return h;
}

describe('bulk encoding', () => {
  it('splits only a top-level binary at or above the threshold, and keeps the caller’s buffer', () => {
    const data = Buffer.alloc(BULK_THRESHOLD, 7);
    expect(codec.encodeEntryBulk(blob, { n: 1, data: data.subarray(1) }, BULK_THRESHOLD)).toBeUndefined();
    expect(codec.encodeEntryBulk(registry.message('text'), { s: 'x' }, 1)).toBeUndefined();
    const bulk = codec.encodeEntryBulk(blob, { n: 1, data }, BULK_THRESHOLD)!;
    expect(bulk.body).toBe(data);
    expect(bulk.key).toBe('data');
    const { chunks } = bulkFrame({ n: 1, data });
    expect(chunks).toHaveLength(2);
    expect(chunks[1]).toBe(data); // no copy
    expect(chunks[0]![7]).toBe(Flags.BODY);
  });

  it('picks the largest binary; the other stays in the value', () => {
    const big = Buffer.alloc(50_000, 1);
    const small = Buffer.alloc(40_000, 2);
    const bulk = codec.encodeEntryBulk(blob, { n: 1, data: small, extra: big }, BULK_THRESHOLD)!;
    expect(bulk.key).toBe('extra');
    const { values } = decodeAll([bulkFrame({ n: 1, data: small, extra: big }).bytes]);
    expect(Buffer.from(values[0]!.extra!).equals(big)).toBe(true);
    expect(Buffer.from(values[0]!.data).equals(small)).toBe(true);
  });

  it('a union of object messages: the variant the value is carries its binary as the body, and decodes back to that variant', () => {
    const union = defineRegistry({
      messages: {
        out: {
          id: 3,
          schema: Type.Union([
            Type.Object({ kind: Type.Literal('started'), pid: Type.Integer() }),
            Type.Object({ kind: Type.Literal('stdout'), data: Type.Uint8Array() }),
            Type.Object({ kind: Type.Literal('stderr'), bytes: Type.Uint8Array() }),
          ]),
        },
      },
    });
    const unionCodec = new Codec(union);
    const entry = union.message('out');
    const data = Buffer.alloc(BULK_THRESHOLD, 7);
    const bulk = unionCodec.encodeEntryBulk(entry, { kind: 'stderr', bytes: data }, BULK_THRESHOLD)!;
    expect(bulk.key).toBe('bytes');
    expect(bulk.body).toBe(data);
    expect(unionCodec.encodeEntryBulk(entry, { kind: 'started', pid: 4 }, BULK_THRESHOLD)).toBeUndefined();
    const enc = new FrameEncoder();
    enc.pushBulk(Kind.EVENT, entry.id, 0, bulk.value, bulk.body);
    const got: unknown[] = [];
    new FrameDecoder((f) => void got.push(unionCodec.decodeMessageAt(entry, f.source, f.start, f.end, f.owned, f.body)), { bulk: true }).push(
      Buffer.concat(enc.take()),
    );
    expect(got).toEqual([{ kind: 'stderr', bytes: data }]);
    expect(() => unionCodec.encodeEntryBulk(entry, { kind: 'stdout', bytes: data }, BULK_THRESHOLD)).toThrow(
      expect.objectContaining({ code: 'SCHEMA_VIOLATION' }),
    );
  });

  it('checks the value outbound like encodeEntry', () => {
    expect(() => codec.encodeEntryBulk(blob, { n: 1.5, data: Buffer.alloc(BULK_THRESHOLD) }, BULK_THRESHOLD)).toThrow(/SCHEMA_VIOLATION|n/);
  });

  it('joinBulk is the plain payload, for a peer without "bulk"', () => {
    const data = Buffer.alloc(BULK_THRESHOLD, 9);
    const plain = codec.joinBulk(codec.encodeEntryBulk(blob, { n: 3, data }, BULK_THRESHOLD)!);
    const v = codec.decodeMessage(blob, plain) as { n: number; data: Uint8Array };
    expect(v.n).toBe(3);
    expect(Buffer.from(v.data).equals(data)).toBe(true);
  });
});

describe('bulk decoding', () => {
  const data = Buffer.alloc(100_000);
  for (let i = 0; i < data.length; i++) data[i] = i & 0xff;
  const { bytes } = bulkFrame({ n: 5, data });

  it.each([
    ['whole', [bytes]],
    ['in 7-byte chunks', Array.from({ length: Math.ceil(bytes.length / 7) }, (_, i) => bytes.subarray(i * 7, i * 7 + 7))],
    ['one byte at a time, first 100', [...Array.from({ length: 100 }, (_, i) => bytes.subarray(i, i + 1)), bytes.subarray(100)]],
    ['with a small frame behind it in the same chunk', [Buffer.concat([bytes, bytes.subarray(0, 30)]), bytes.subarray(30)]],
  ])('%s: the body is one buffer of exactly its size, handed on as the value', (_name, chunks) => {
    const { frames, values, dec } = decodeAll(chunks as Buffer[]);
    expect(frames.length).toBeGreaterThanOrEqual(1);
    dec.end();
    for (const v of values) {
      expect(v.n).toBe(5);
      expect(v.data.byteLength).toBe(100_000);
      expect(v.data.buffer.byteLength).toBe(100_000); // its own buffer, exactly its size
      expect(Buffer.from(v.data).equals(data)).toBe(true);
    }
  });

  it('a value the handler keeps never changes when later frames arrive', () => {
    const first = Buffer.alloc(BULK_THRESHOLD, 1);
    const second = Buffer.alloc(BULK_THRESHOLD, 2);
    const a = bulkFrame({ n: 1, data: first }).bytes;
    const b = bulkFrame({ n: 2, data: second }).bytes;
    const { values } = decodeAll([Buffer.concat([a, b.subarray(0, 50)]), b.subarray(50)]);
    expect(values).toHaveLength(2);
    expect(Buffer.from(values[0]!.data).equals(first)).toBe(true);
    expect(Buffer.from(values[1]!.data).equals(second)).toBe(true);
  });

  it('pendingFrameBytes and bufferedBytes cover a BODY frame in progress; end() mid-body is TRUNCATED_FRAME', () => {
    const dec = new FrameDecoder(() => {}, { bulk: true });
    dec.push(bytes.subarray(0, 1000));
    expect(dec.pendingFrameBytes).toBe(bytes.length);
    expect(dec.bufferedBytes).toBe(1000 - 12); // the header is not held once parsed
    expect(() => dec.end()).toThrow(expect.objectContaining({ code: 'TRUNCATED_FRAME' }));
  });

  it('without the feature, BODY is BAD_FLAGS', () => {
    expect(() => decodeAll([bytes], false)).toThrow(expect.objectContaining({ code: 'BAD_FLAGS' }));
  });

  it('BODY on another kind, or on a frame too short for its prefix, is BAD_FLAGS', () => {
    expect(() => new FrameDecoder(() => {}, { bulk: true }).push(header(10, Flags.BODY, Kind.RESPONSE))).toThrow(
      expect.objectContaining({ code: 'BAD_FLAGS' }),
    );
    expect(() => new FrameDecoder(() => {}, { bulk: true }).push(header(4, Flags.BODY))).toThrow(expect.objectContaining({ code: 'BAD_FLAGS' }));
  });

  it('BODY on DATA (with END too) is a stream message where streams are on, BAD_FLAGS where they are not; never on OPEN', () => {
    const enc = new FrameEncoder();
    enc.pushBulk(Kind.DATA, 7, 3, pack(['data', { n: 9 }]), data, Flags.END);
    const frameBytes = Buffer.concat(enc.take());
    const got: Frame[] = [];
    new FrameDecoder((f) => void got.push(f), { bulk: true, streams: true }).push(frameBytes);
    expect(got).toHaveLength(1);
    expect(got[0]!.kind).toBe(Kind.DATA);
    expect(got[0]!.flags).toBe(Flags.BODY | Flags.END);
    expect(got[0]!.id).toBe(3);
    expect(got[0]!.body!.equals(data)).toBe(true);
    expect(() => new FrameDecoder(() => {}, { bulk: true }).push(frameBytes)).toThrow(expect.objectContaining({ code: 'BAD_KIND' }));
    expect(() => new FrameDecoder(() => {}, { bulk: true, streams: true }).push(header(10, Flags.BODY, Kind.OPEN))).toThrow(
      expect.objectContaining({ code: 'BAD_FLAGS' }),
    );
  });

  it('a body length the frame cannot hold is BAD_BODY, before the body is allocated', () => {
    const allocated: number[] = [];
    const lie = Buffer.concat([header(20, Flags.BODY), Buffer.from([0xff, 0xff, 0xff, 0x00]), Buffer.alloc(16)]);
    const dec = new FrameDecoder(() => {}, { bulk: true, allocate: (n) => (allocated.push(n), Buffer.alloc(n)) });
    let err: unknown;
    try {
      dec.push(lie);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ProtocolError);
    expect((err as ProtocolError).code).toBe('BAD_BODY');
    expect(allocated).toEqual([]);
    // the decoder refuses further input
    expect(() => dec.push(Buffer.alloc(1))).toThrow(/BAD_BODY|body/);
    // B = length − 4: no value byte left
    const noValue = Buffer.concat([header(8, Flags.BODY), Buffer.from([4, 0, 0, 0]), Buffer.alloc(4)]);
    expect(() => new FrameDecoder(() => {}, { bulk: true }).push(noValue)).toThrow(expect.objectContaining({ code: 'BAD_BODY' }));
  });

  it('a value above BULK_MAX_VALUE is BAD_BODY', () => {
    const length = 4 + BULK_MAX_VALUE + 1;
    const big = Buffer.concat([header(length, Flags.BODY), Buffer.from([0, 0, 0, 0])]);
    expect(() => new FrameDecoder(() => {}, { bulk: true }).push(big)).toThrow(expect.objectContaining({ code: 'BAD_BODY' }));
  });

  it('a value that is not [key, map], or whose map holds the key, is DECODE_ERROR; a key that breaks the schema is SCHEMA_VIOLATION', () => {
    const body = Buffer.alloc(8, 1);
    const decodeValue = (value: unknown) => {
      const v = pack(value);
      return codec.decodeMessageAt(blob, v, 0, v.length, false, body);
    };
    expect(() => decodeValue({ n: 1 })).toThrow(DecodeError);
    expect(() => decodeValue(['data', [1]])).toThrow(DecodeError);
    expect(() => decodeValue(['data', { n: 1, data: new Uint8Array(1) }])).toThrow(DecodeError);
    expect(() => decodeValue(['n', { data: new Uint8Array(1) }])).toThrow(/SCHEMA_VIOLATION|n/);
    expect(decodeValue(['data', { n: 1 }])).toEqual({ n: 1, data: body });
    // "__proto__" becomes an own property, never the prototype
    const odd = decodeValue(['__proto__', { n: 1, data: new Uint8Array(1) }]) as object;
    expect(Object.getPrototypeOf(odd)).toBe(Object.prototype);
  });
});

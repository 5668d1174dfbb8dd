/** The streaming decoder: any split of a multi-frame stream yields exactly the frames, in order. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { exampleRegistry } from '../src/examples.js';
import { Codec, DecodeError, Flags, FrameDecoder, HEADER_SIZE, Kind, type Frame } from '../src/index.js';
import { RUNS, decodeAll, encodeAll, messageexp, splitAt } from './helpers.js';

interface Spec {
  kind: Kind;
  type: number;
  id: number;
  payload: Uint8Array;
  deadlineMs?: number;
}

/** A frame to send: small (inline), zero-length or large (separate chunk); REQUESTs may carry a deadline. */
const frameSpec: fc.Arbitrary<Spec> = fc
  .record({
    kind: fc.constantFrom(Kind.CONTROL, Kind.EVENT, Kind.REQUEST, Kind.RESPONSE, Kind.ERROR),
    type: fc.integer({ min: 0, max: 0xffff }),
    id: fc.integer({ min: 0, max: 0xffffffff }),
    payload: fc.oneof(
      { weight: 4, arbitrary: fc.uint8Array({ maxLength: 200 }) },
      { weight: 1, arbitrary: fc.constant(new Uint8Array(0)) },
      { weight: 1, arbitrary: fc.integer({ min: 4097, max: 12000 }).chain((n) => fc.uint8Array({ minLength: n, maxLength: n })) },
    ),
    deadline: fc.option(fc.integer({ min: 0, max: 0xffffffff }), { nil: undefined }),
  })
  .map(({ deadline, ...f }) => (f.kind === Kind.REQUEST && deadline !== undefined ? { ...f, deadlineMs: deadline } : f));

function expectFrames(got: Frame[], sent: readonly Spec[]): void {
  expect(got).toHaveLength(sent.length);
  got.forEach((f, i) => {
    const s = sent[i]!;
    expect(f.kind).toBe(s.kind);
    expect(f.type).toBe(s.type);
    expect(f.id).toBe(s.id);
    expect(f.deadlineMs).toBe(s.deadlineMs);
    expect(f.flags).toBe(s.deadlineMs === undefined ? 0 : Flags.DEADLINE);
    expect(f.payload.equals(Buffer.from(s.payload))).toBe(true);
  });
}

describe('FrameDecoder on a multi-frame stream', () => {
  it('random splits yield exactly the frames in order', () => {
    fc.assert(
      fc.property(fc.array(frameSpec, { minLength: 1, maxLength: 12 }), fc.array(fc.nat(), { maxLength: 30 }), (specs, cuts) => {
        const { bytes } = encodeAll(specs);
        expectFrames(decodeAll(splitAt(bytes, cuts)), specs);
      }),
      RUNS,
    );
  });

  it('the same stream fed byte by byte', () => {
    fc.assert(
      fc.property(fc.array(frameSpec, { minLength: 1, maxLength: 6 }), (specs) => {
        const { bytes } = encodeAll(specs);
        const oneByOne = Array.from({ length: bytes.length }, (_, i) => bytes.subarray(i, i + 1));
        expectFrames(decodeAll(oneByOne), specs);
      }),
      { numRuns: 25 },
    );
  });

  it('small and large frames mixed, deadline prefix and zero-length payloads, every split point', () => {
    const specs: Spec[] = [
      { kind: Kind.EVENT, type: 4, id: 0, payload: new Uint8Array([1, 2, 3]) },
      { kind: Kind.CONTROL, type: 0xff01, id: 99, payload: new Uint8Array(0) },
      { kind: Kind.REQUEST, type: 100, id: 7, payload: new Uint8Array(5000).fill(0x41), deadlineMs: 250 },
      { kind: Kind.REQUEST, type: 100, id: 8, payload: new Uint8Array(0), deadlineMs: 0xffffffff },
      { kind: Kind.RESPONSE, type: 100, id: 7, payload: new Uint8Array(4096).fill(9) },
      { kind: Kind.ERROR, type: 100, id: 8, payload: new Uint8Array([0x80]) },
    ];
    const { bytes } = encodeAll(specs);
    expect(bytes.length).toBe(specs.reduce((n, s) => n + HEADER_SIZE + (s.deadlineMs === undefined ? 0 : 4) + s.payload.length, 0));
    for (let cut = 0; cut <= bytes.length; cut += 7) {
      expectFrames(decodeAll([bytes.subarray(0, cut), bytes.subarray(cut)]), specs);
    }
    const got = decodeAll([bytes]);
    expect(got[3]!.deadlineMs).toBe(0xffffffff);
    expect(got[3]!.payload.length).toBe(0);
    expect(got[1]!.payload.length).toBe(0);
  });

  it('emits each frame as soon as its last byte arrives, and counts buffered bytes', () => {
    const { bytes } = encodeAll([
      { kind: Kind.EVENT, type: 1, id: 0, payload: new Uint8Array([1, 2]) },
      { kind: Kind.EVENT, type: 2, id: 0, payload: new Uint8Array(0) },
    ]);
    const seen: number[] = [];
    const dec = new FrameDecoder((f) => seen.push(f.type));
    dec.push(bytes.subarray(0, 13));
    expect(seen).toEqual([]);
    expect(dec.bufferedBytes).toBeGreaterThan(0);
    dec.push(bytes.subarray(13, 14));
    expect(seen).toEqual([1]);
    dec.push(bytes.subarray(14, 14 + 11));
    expect(seen).toEqual([1]);
    dec.push(bytes.subarray(25));
    expect(seen).toEqual([1, 2]);
    expect(dec.bufferedBytes).toBe(0);
    dec.end();
  });

  it('a hand-built header with the DEADLINE prefix is decoded as documented', () => {
    const b = Buffer.from('0600000064000201070000000a00000091c3'.replace(/\s/g, ''), 'hex');
    // length 6: deadline u32 10, then fixarray(1)[true]
    const frames = decodeAll([b]);
    expect(frames).toHaveLength(1);
    expect(frames[0]).toMatchObject({ kind: Kind.REQUEST, type: 100, id: 7, flags: 1, deadlineMs: 10 });
    expect([...frames[0]!.payload]).toEqual([0x91, 0xc3]);
  });
});

describe('in-place decoding: Frame.source/start/end and Codec.decodeMessageAt', () => {
  const codec = new Codec(exampleRegistry);
  const entry = exampleRegistry.message('messageexp');

  it('decodes each frame of any split stream in place, exactly as from its payload copy', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(messageexp, fc.boolean()), { minLength: 1, maxLength: 10 }), fc.array(fc.nat(), { maxLength: 10 }), (msgs, cuts) => {
        const { bytes } = encodeAll(
          msgs.map(([m, asRequest]) =>
            asRequest
              ? { kind: Kind.REQUEST, type: 100, id: 1, payload: codec.encodeRequest('echo', m), deadlineMs: 5 }
              : { kind: Kind.EVENT, type: entry.id, id: 0, payload: codec.encodeMessage('messageexp', m) },
          ),
        );
        const got: unknown[] = [];
        const dec = new FrameDecoder((f) => {
          expect(f.source.subarray(f.start, f.end).equals(f.payload)).toBe(true);
          const inPlace = codec.decodeMessageAt(entry, f.source, f.start, f.end);
          expect(inPlace).toEqual(codec.decodeMessage(entry, f.payload));
          got.push(inPlace);
        });
        for (const c of splitAt(bytes, cuts)) dec.push(c);
        dec.end();
        expect(got).toEqual(msgs.map(([m]) => m));
      }),
      RUNS,
    );
  });

  it('a range is one value exactly: bytes around it do not count, a value overrunning it is DECODE_ERROR', () => {
    const one = codec.encodeMessage('messageexp', { timestamp: 1n, str: 'abc' });
    const padded = Buffer.concat([Buffer.from([0xc1, 0xc1]), one, Buffer.from([0x01, 0x02])]);
    expect(codec.decodeMessageAt(entry, padded, 2, 2 + one.length)).toEqual({ timestamp: 1n, str: 'abc' });
    // The value continues past `end` (the source does too): truncated within its range.
    expect(() => codec.decodeMessageAt(entry, padded, 2, 2 + one.length - 1)).toThrow(DecodeError);
    // Trailing bytes inside the range.
    expect(() => codec.decodeMessageAt(entry, Buffer.concat([one, Buffer.from([0x00])]), 0, one.length + 1)).toThrow(DecodeError);
    expect(() => codec.decodeMessageAt(entry, padded, 0, 1)).toThrow(DecodeError); // 0xc1
    expect(() => codec.decodeMessageAt(entry, padded, 2, 2)).toThrow(DecodeError); // empty
  });
});

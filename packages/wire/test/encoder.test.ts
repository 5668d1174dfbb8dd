/** FrameEncoder: inline vs large chunking, batching, rollover, and that every handed-out byte is written. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_INLINE_LIMIT, Flags, FrameEncoder, HEADER_SIZE, Kind, encodeFrame } from '../src/index.js';
import { RUNS, decodeAll, expectBytes } from './helpers.js';

interface Spec {
  kind: Kind;
  type: number;
  id: number;
  payload: Uint8Array;
  deadlineMs?: number;
}

/** The frame as PROTOCOL.md §2 lays it out, written independently of the encoder. */
function reference(f: Spec): Buffer {
  const dl = f.deadlineMs !== undefined;
  const b = Buffer.alloc(HEADER_SIZE + (dl ? 4 : 0) + f.payload.length);
  b.writeUInt32LE((dl ? 4 : 0) + f.payload.length, 0);
  b.writeUInt16LE(f.type, 4);
  b.writeUInt8(f.kind, 6);
  b.writeUInt8(dl ? Flags.DEADLINE : 0, 7);
  b.writeUInt32LE(f.id, 8);
  if (dl) b.writeUInt32LE(f.deadlineMs!, 12);
  b.set(f.payload, HEADER_SIZE + (dl ? 4 : 0));
  return b;
}

const bytesOf = (n: number, v = 0x41) => new Uint8Array(n).fill(v);
const ev = (payload: Uint8Array, type = 4): Spec => ({ kind: Kind.EVENT, type, id: 0, payload });

function push(enc: FrameEncoder, f: Spec): void {
  enc.push(f.kind, f.type, f.id, f.payload, f.deadlineMs);
}

describe('FrameEncoder chunking', () => {
  it('many small frames leave as one chunk of exactly their bytes', () => {
    const enc = new FrameEncoder();
    const specs = Array.from({ length: 1000 }, (_, i) => ev(bytesOf(i % 40, i & 0xff), i));
    specs.forEach((s) => push(enc, s));
    expect(enc.pendingFrames).toBe(1000);
    const total = specs.reduce((n, s) => n + HEADER_SIZE + s.payload.length, 0);
    expect(enc.pendingBytes).toBe(total);
    const chunks = enc.take();
    // 1000 frames of ≤ 51 bytes need more than one 64 KiB batch buffer: one chunk per buffer.
    expect(chunks.reduce((n, c) => n + c.length, 0)).toBe(total);
    expect(chunks.length).toBe(Math.ceil(total / (64 * 1024)));
    expectBytes(Buffer.concat(chunks), Buffer.concat(specs.map(reference)));
    expect(enc.pendingBytes).toBe(0);
    expect(enc.pendingFrames).toBe(0);

    const few = new FrameEncoder();
    for (let i = 0; i < 50; i++) push(few, ev(bytesOf(30)));
    const one = few.take();
    expect(one).toHaveLength(1);
    expect(one[0]!.length).toBe(50 * 42);
  });

  it('a payload at the inline limit is copied; one byte more is its own chunk, not copied', () => {
    const enc = new FrameEncoder();
    expect(enc.inlineLimit).toBe(DEFAULT_INLINE_LIMIT);
    const atLimit = bytesOf(DEFAULT_INLINE_LIMIT, 1);
    push(enc, ev(atLimit));
    const inline = enc.take();
    expect(inline.map((c) => c.length)).toEqual([HEADER_SIZE + DEFAULT_INLINE_LIMIT]);
    expect(inline[0]!.buffer).not.toBe(atLimit.buffer);

    const big = bytesOf(DEFAULT_INLINE_LIMIT + 1, 2);
    push(enc, ev(new Uint8Array([7])));
    push(enc, { kind: Kind.REQUEST, type: 100, id: 9, payload: big, deadlineMs: 250 });
    push(enc, ev(new Uint8Array([8])));
    const chunks = enc.take();
    expect(chunks.map((c) => c.length)).toEqual([HEADER_SIZE + 1 + HEADER_SIZE + 4, big.length, HEADER_SIZE + 1]);
    // The large payload is the caller's memory, not a copy.
    expect(chunks[1]!.buffer).toBe(big.buffer);
    expect(chunks[1]!.byteOffset).toBe(big.byteOffset);
    const frames = decodeAll(chunks);
    expect(frames.map((f) => [f.type, f.id, f.deadlineMs, f.payload.length])).toEqual([
      [4, 0, undefined, 1],
      [100, 9, 250, big.length],
      [4, 0, undefined, 1],
    ]);
  });

  it('honours a custom inlineLimit, and a large Uint8Array that is not a Buffer', () => {
    const enc = new FrameEncoder({ inlineLimit: 16 });
    const big = new Uint8Array(new ArrayBuffer(100), 10, 17).fill(3);
    push(enc, ev(bytesOf(16)));
    push(enc, ev(big));
    const chunks = enc.take();
    expect(chunks.map((c) => c.length)).toEqual([HEADER_SIZE + 16 + HEADER_SIZE, 17]);
    expect(Buffer.isBuffer(chunks[1])).toBe(true);
    expect(chunks[1]!.byteOffset).toBe(10);
    expectBytes(Buffer.concat(chunks), Buffer.concat([reference(ev(bytesOf(16))), reference(ev(big))]));
  });

  it('rolls over to a new batch buffer when the current one is full', () => {
    const enc = new FrameEncoder({ batchSize: 8192 });
    expect(enc.batchSize).toBe(8192);
    const specs = Array.from({ length: 9 }, (_, i) => ev(bytesOf(1000, i)));
    specs.forEach((s) => push(enc, s));
    const chunks = enc.take();
    // 8 × 1012 = 8096 fit in 8192; the 9th starts a new buffer.
    expect(chunks.map((c) => c.length)).toEqual([8 * 1012, 1012]);
    expect(chunks[0]!.buffer).not.toBe(chunks[1]!.buffer);
    expectBytes(Buffer.concat(chunks), Buffer.concat(specs.map(reference)));
    // The batch size never drops below one inline frame with a deadline.
    expect(new FrameEncoder({ batchSize: 1 }).batchSize).toBe(HEADER_SIZE + 4 + DEFAULT_INLINE_LIMIT);
  });

  it('take() on an empty encoder returns no chunks; chunks never have zero length', () => {
    const enc = new FrameEncoder();
    expect(enc.take()).toEqual([]);
    push(enc, ev(bytesOf(5000)));
    push(enc, ev(bytesOf(5000)));
    const chunks = enc.take();
    expect(chunks.map((c) => c.length)).toEqual([HEADER_SIZE, 5000, HEADER_SIZE, 5000]);
    expect(enc.take()).toEqual([]);
  });

  it('chunks already taken are not overwritten by later frames (the batch buffer is reused)', () => {
    const enc = new FrameEncoder({ batchSize: 8192 });
    push(enc, ev(bytesOf(100, 0x11)));
    const first = enc.take();
    const copy = Buffer.concat(first);
    for (let i = 0; i < 50; i++) push(enc, ev(bytesOf(500, 0x22)));
    enc.take();
    expectBytes(Buffer.concat(first), copy);
  });
});

describe('every byte handed out has been written', () => {
  const spec: fc.Arbitrary<Spec> = fc
    .record({
      kind: fc.constantFrom(Kind.CONTROL, Kind.EVENT, Kind.REQUEST, Kind.RESPONSE, Kind.ERROR),
      type: fc.integer({ min: 0, max: 0xffff }),
      id: fc.integer({ min: 0, max: 0xffffffff }),
      payload: fc.oneof(
        fc.uint8Array({ maxLength: 300 }),
        fc.integer({ min: 0, max: 6000 }).map((n) => bytesOf(n, n & 0xff)),
      ),
      deadline: fc.option(fc.integer({ min: 0, max: 0xffffffff }), { nil: undefined }),
    })
    .map(({ deadline, ...f }) => (f.kind === Kind.REQUEST && deadline !== undefined ? { ...f, deadlineMs: deadline } : f));

  it('with the batch buffer pre-filled with garbage, chunks are exactly the reference bytes', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(spec, { maxLength: 20 }), { minLength: 1, maxLength: 5 }),
        fc.integer({ min: 0, max: 5000 }),
        fc.integer({ min: 0, max: 20000 }),
        (batches, inlineLimit, batchSize) => {
          const enc = new FrameEncoder({ inlineLimit, batchSize });
          const payloadBuffers = new Set<ArrayBufferLike>();
          // Dirty the encoder's first batch buffer: an empty take seals nothing, so push and take one frame.
          push(enc, ev(new Uint8Array(0)));
          const [probe] = enc.take();
          garbageAfter(probe!);
          for (const batch of batches) {
            batch.forEach((s) => {
              payloadBuffers.add(s.payload.buffer);
              push(enc, s);
            });
            const chunks = enc.take();
            expectBytes(Buffer.concat(chunks), Buffer.concat(batch.map(reference)));
            expect(decodeAll(chunks)).toHaveLength(batch.length);
            // Dirty what follows the last batch chunk of each buffer, as a reused allocUnsafe buffer would
            // be: the next batch is written there, and any byte it fails to write shows up as 0xEE.
            const lastInBuffer = new Map<ArrayBufferLike, Buffer>();
            for (const c of chunks) {
              expect(c.length).toBeGreaterThan(0);
              if (payloadBuffers.has(c.buffer)) continue;
              const prev = lastInBuffer.get(c.buffer);
              if (!prev || prev.byteOffset < c.byteOffset) lastInBuffer.set(c.buffer, c);
            }
            lastInBuffer.forEach(garbageAfter);
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it('encodeFrame builds one frame equal to the reference', () => {
    fc.assert(
      fc.property(spec, (s) => {
        expectBytes(encodeFrame(s.kind, s.type, s.id, s.payload, s.deadlineMs), reference(s));
      }),
      RUNS,
    );
  });
});

/** Fills the rest of the batch buffer behind `chunk` with 0xEE (only for unpooled buffers). */
function garbageAfter(chunk: Buffer): void {
  if (chunk.buffer.byteLength < 4096 || chunk.buffer.byteLength === Buffer.poolSize) return;
  new Uint8Array(chunk.buffer, chunk.byteOffset + chunk.length).fill(0xee);
}

/** Shared helpers of the wire tests: arbitraries for the example registry and a frame pipeline. */
import fc from 'fast-check';
import { expect } from 'vitest';
import { FrameDecoder, FrameEncoder, type Frame, type FrameDecoderOptions, type FrameEncoderOptions } from '../src/index.js';

export const INT64_MIN = -(2n ** 63n);
export const INT64_MAX = 2n ** 63n - 1n;
export const UINT64_MAX = 2n ** 64n - 1n;

/** Every bigint the protocol can carry: int 64 and, above 2^63−1, uint 64; biased to values past 2^53. */
export const bigint64 = fc.oneof(
  fc.bigInt({ min: INT64_MIN, max: UINT64_MAX }),
  fc.bigInt({ min: 2n ** 53n + 1n, max: INT64_MAX }),
  fc.bigInt({ min: INT64_MIN, max: -(2n ** 53n) - 1n }),
  fc.constantFrom(INT64_MIN, INT64_MAX, INT64_MAX + 1n, UINT64_MAX, 0n, -1n, 2n ** 53n + 1n),
);

/** Strings with any code point (astral ones included: two UTF-16 units each). */
export const anyString = (maxLength = 40) => fc.string({ unit: 'binary', maxLength });

/** messageexp's `str`: 1..65 UTF-16 code units (TypeBox counts `.length`). */
export const str1to65 = fc.oneof(
  fc.string({ unit: 'binary', minLength: 1, maxLength: 65 }).filter((s) => s.length <= 65),
  fc.string({ unit: 'grapheme-ascii', minLength: 65, maxLength: 65 }),
);

/** Finite doubles (TypeBox Type.Number refuses NaN and ±Infinity). −0 is covered by its own test. */
export const finiteDouble = fc.double({ noNaN: true, noDefaultInfinity: true }).filter((x) => !Object.is(x, -0));

export const int32 = fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 });
export const example0 = fc.record({ str: anyString() });
export const example1 = fc.record({ strvec: fc.array(example0, { maxLength: 6 }), data: int32 });
export const example2 = fc.record({ strvec: fc.array(example0, { maxLength: 6 }), data: int32, ptr: finiteDouble }, { requiredKeys: ['strvec', 'data'] });
export const timestamps = fc.record({ t1: bigint64, t2: bigint64 });
export const messageexp = fc.record({ timestamp: bigint64, str: str1to65 });
export const polymorph = fc.oneof(
  fc.record({ type: fc.constant('example0' as const), value: example0 }),
  fc.record({ type: fc.constant('example1' as const), value: example1 }),
  fc.record({ type: fc.constant('example2' as const), value: example2 }),
);

/**
 * Replaces every Uint8Array (msgpackr hands back Buffers) by a plain Uint8Array copy so that
 * toEqual compares bytes, after the caller has checked the types it cares about.
 */
export function plain(v: unknown): unknown {
  if (v instanceof Uint8Array) return Uint8Array.from(v);
  if (Array.isArray(v)) return v.map(plain);
  if (v !== null && typeof v === 'object') {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  }
  return v;
}

/** Collects every binary leaf of a value. */
export function binaries(v: unknown, out: Uint8Array[] = []): Uint8Array[] {
  if (v instanceof Uint8Array) out.push(v);
  else if (Array.isArray(v)) v.forEach((x) => binaries(x, out));
  else if (v !== null && typeof v === 'object') Object.values(v).forEach((x) => binaries(x, out));
  return out;
}

/** Every bigint leaf of a value, with its JSON-pointer-ish path. */
export function bigints(v: unknown, path = '', out: [string, unknown][] = []): [string, unknown][] {
  if (typeof v === 'bigint') out.push([path, v]);
  else if (Array.isArray(v)) v.forEach((x, i) => bigints(x, `${path}/${i}`, out));
  else if (v !== null && typeof v === 'object' && !(v instanceof Uint8Array)) Object.entries(v).forEach(([k, x]) => bigints(x, `${path}/${k}`, out));
  return out;
}

/** Decodes `bytes` (fed as the given chunks) and returns every frame, payloads copied. */
export function decodeAll(chunks: readonly Uint8Array[], options?: FrameDecoderOptions): Frame[] {
  const frames: Frame[] = [];
  const dec = new FrameDecoder((f) => frames.push({ ...f, payload: Buffer.from(f.payload) }), options);
  for (const c of chunks) dec.push(Buffer.from(c.buffer, c.byteOffset, c.byteLength));
  dec.end();
  return frames;
}

/** Splits `bytes` at the given cut points (any numbers; reduced modulo the length, sorted). */
export function splitAt(bytes: Buffer, cuts: readonly number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let prev = 0;
  for (const p of [...points, bytes.length]) {
    out.push(bytes.subarray(prev, p));
    prev = p;
  }
  return out;
}

/** Pushes frames through a fresh encoder and returns the concatenated bytes and the chunks. */
export function encodeAll(
  frames: readonly { kind: Parameters<FrameEncoder['push']>[0]; type: number; id: number; payload: Uint8Array; deadlineMs?: number }[],
  options?: FrameEncoderOptions,
): { bytes: Buffer; chunks: Buffer[] } {
  const enc = new FrameEncoder(options);
  for (const f of frames) enc.push(f.kind, f.type, f.id, f.payload, f.deadlineMs);
  const chunks = enc.take();
  return { bytes: Buffer.concat(chunks), chunks };
}

/** Byte equality that stays fast on large buffers and still prints a useful diff on failure. */
export function expectBytes(actual: Uint8Array, expected: Uint8Array): void {
  if (!Buffer.from(actual.buffer, actual.byteOffset, actual.byteLength).equals(expected)) {
    expect(Buffer.from(actual).toString('hex')).toBe(Buffer.from(expected).toString('hex'));
  }
}

/** fast-check run parameters: enough to find bugs, modest on a shared 2-core machine. */
export const RUNS = { numRuns: 200 } as const;

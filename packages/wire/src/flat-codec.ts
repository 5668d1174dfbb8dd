import { Kind, OptionalKind, type TSchema } from '@sinclair/typebox';

/**
 * A MessagePack encoder and decoder compiled for one "flat" object schema: at most 15 properties,
 * each a bigint, string, number, integer or boolean (optional or not). Such types — trace events,
 * `messageexp`, most telemetry — are the hot path, and msgpackr's generic per-call path costs
 * several times the work of writing their few fields directly.
 *
 * Both directions fall back to msgpackr whenever anything is unusual, so behaviour is the
 * generic codec's: `encode` returns undefined for a value with properties the schema does not
 * name or a string longer than 21 845 characters; `decode` returns {@link FALLBACK} for any byte
 * it does not expect (another map size, an unknown key, a nested value, trailing bytes).
 * The bytes written are exactly msgpackr's for the same object in schema order (fixmap;
 * smallest str header; bigint as int 64 / uint 64; numbers as msgpackr writes them), so
 * PROTOCOL.md's dumps hold either way. Decoded values are checked by the compiled TypeBox
 * checker afterwards, as always.
 */
export interface FlatCodec {
  encode(value: Record<string, unknown>): Buffer | undefined;
  decode(src: Uint8Array, start: number, end: number): unknown;
}

/** Returned by {@link FlatCodec.decode} when the generic decoder must handle the payload. */
export const FALLBACK: unique symbol = Symbol('flat-codec-fallback');

type FieldKind = 'bigint' | 'string' | 'number' | 'boolean';

interface Field {
  readonly name: string;
  readonly key: Buffer; // the msgpack encoding of the property name (fixstr)
  readonly kind: FieldKind;
  readonly optional: boolean;
}

const SLAB_SIZE = 64 * 1024;
const MAX_STRING = 21_845; // × 3 bytes of UTF-8 still fits a str 16 header
const TWO_63 = 1n << 63n;
const TWO_64 = 1n << 64n;

/** Compiles a flat codec for `schema`, or returns undefined when the schema is not flat. */
export function compileFlatCodec(schema: TSchema): FlatCodec | undefined {
  if ((schema as unknown as Record<symbol, unknown>)[Kind] !== 'Object') return undefined;
  const properties = (schema as { properties?: Record<string, TSchema> }).properties;
  if (!properties) return undefined;
  const required = new Set<string>((schema as { required?: string[] }).required ?? []);
  const fields: Field[] = [];
  for (const [name, prop] of Object.entries(properties)) {
    const kind = fieldKind(prop);
    const key = Buffer.from(name, 'utf8');
    if (!kind || key.length >= 32) return undefined;
    const optional = (prop as unknown as Record<symbol, unknown>)[OptionalKind] === 'Optional' || !required.has(name);
    fields.push({ name, key: Buffer.concat([Buffer.from([0xa0 | key.length]), key]), kind, optional });
  }
  if (fields.length === 0 || fields.length > 15) return undefined;
  let slab = Buffer.allocUnsafe(SLAB_SIZE);
  let slabView = new DataView(slab.buffer, slab.byteOffset, slab.byteLength);
  let pos = 0;

  const encode = (value: Record<string, unknown>): Buffer | undefined => {
    let present = 0;
    let worst = 1;
    for (const f of fields) {
      const v = value[f.name];
      if (v === undefined) {
        if (!f.optional) return undefined;
        continue;
      }
      present++;
      worst += f.key.length + (f.kind === 'string' ? 3 + 3 * (v as string).length : 9);
    }
    // Properties the schema does not name (or set to undefined) go the generic way: msgpackr
    // encodes every property. Counting keys is enough to tell; reading them is slower.
    let own = 0;
    for (const _ in value) own++;
    if (own !== present) return undefined;
    if (SLAB_SIZE - pos < worst) {
      if (worst > SLAB_SIZE) return undefined;
      slab = Buffer.allocUnsafe(SLAB_SIZE);
      slabView = new DataView(slab.buffer, slab.byteOffset, slab.byteLength);
      pos = 0;
    }
    const start = pos;
    let p = pos;
    const b = slab;
    b[p++] = 0x80 | present;
    for (const f of fields) {
      const v = value[f.name];
      if (v === undefined) continue;
      const key = f.key;
      for (let i = 0; i < key.length; i++) b[p + i] = key[i]!;
      p += key.length;
      switch (f.kind) {
        case 'bigint': {
          // Out of the 64-bit range: msgpackr's error, not DataView's silent wrap-around.
          if (typeof v !== 'bigint' || v >= TWO_64 || v < -TWO_63) return undefined;
          // DataView's BigInt accessors are V8 intrinsics; Buffer's are BigInt arithmetic in JS.
          if (v >= TWO_63) {
            b[p] = 0xcf;
            slabView.setBigUint64(p + 1, v);
          } else {
            b[p] = 0xd3;
            slabView.setBigInt64(p + 1, v);
          }
          p += 9;
          break;
        }
        case 'string': {
          if (typeof v !== 'string' || v.length > MAX_STRING) return undefined;
          p = writeString(b, p, v);
          break;
        }
        case 'number': {
          if (typeof v !== 'number') return undefined;
          p = writeNumber(b, p, v);
          break;
        }
        case 'boolean':
          if (typeof v !== 'boolean') return undefined;
          b[p++] = v ? 0xc3 : 0xc2;
          break;
      }
    }
    pos = (p + 7) & ~7; // keep the next payload word-aligned, as msgpackr does
    return b.subarray(start, p);
  };

  const decode = (src: Uint8Array, start: number, end: number): unknown => {
    let p = start;
    if (p >= end) return FALLBACK;
    const head = src[p++]!;
    if ((head & 0xf0) !== 0x80) return FALLBACK;
    const n = head & 0x0f;
    const out: Record<string, unknown> = {};
    for (let i = 0; i < n; i++) {
      if (p >= end) return FALLBACK;
      const kh = src[p]!;
      if ((kh & 0xe0) !== 0xa0) return FALLBACK;
      const klen = kh & 0x1f;
      if (p + 1 + klen > end) return FALLBACK;
      const f = matchKey(fields, src, p, klen);
      if (!f) return FALLBACK;
      p += 1 + klen;
      // Any primitive is read as what it is; the TypeBox check decides whether it fits.
      if (p >= end) return FALLBACK;
      const t = src[p++]!;
      let v: unknown;
      if (t < 0x80) v = t;
      else if (t >= 0xe0) v = t - 0x100;
      else if ((t & 0xe0) === 0xa0) {
        const len = t & 0x1f;
        if (p + len > end) return FALLBACK;
        v = readString(src, p, len);
        p += len;
      } else {
        switch (t) {
          case 0xc2:
            v = false;
            break;
          case 0xc3:
            v = true;
            break;
          case 0xcc:
            if (p + 1 > end) return FALLBACK;
            v = src[p];
            p += 1;
            break;
          case 0xcd:
            if (p + 2 > end) return FALLBACK;
            v = (src[p]! << 8) | src[p + 1]!;
            p += 2;
            break;
          case 0xce:
            if (p + 4 > end) return FALLBACK;
            v = u32(src, p);
            p += 4;
            break;
          case 0xd0:
            if (p + 1 > end) return FALLBACK;
            v = (src[p]! << 24) >> 24;
            p += 1;
            break;
          case 0xd1:
            if (p + 2 > end) return FALLBACK;
            v = ((src[p]! << 24) | (src[p + 1]! << 16)) >> 16;
            p += 2;
            break;
          case 0xd2:
            if (p + 4 > end) return FALLBACK;
            v = u32(src, p) | 0;
            p += 4;
            break;
          case 0xca:
            if (p + 4 > end) return FALLBACK;
            v = f32(src, p);
            p += 4;
            break;
          case 0xcb:
            if (p + 8 > end) return FALLBACK;
            v = f64(src, p);
            p += 8;
            break;
          case 0xcf:
            if (p + 8 > end) return FALLBACK;
            v = src.length >= SHARED_VIEW_MIN ? view(src).getBigUint64(p) : (BigInt(u32(src, p)) << 32n) | BigInt(u32(src, p + 4));
            p += 8;
            break;
          case 0xd3:
            if (p + 8 > end) return FALLBACK;
            v = src.length >= SHARED_VIEW_MIN ? view(src).getBigInt64(p) : (BigInt(u32(src, p) | 0) << 32n) | BigInt(u32(src, p + 4));
            p += 8;
            break;
          case 0xd9: {
            if (p + 1 > end) return FALLBACK;
            const len = src[p]!;
            if (p + 1 + len > end) return FALLBACK;
            v = readString(src, p + 1, len);
            p += 1 + len;
            break;
          }
          case 0xda: {
            if (p + 2 > end) return FALLBACK;
            const len = (src[p]! << 8) | src[p + 1]!;
            if (p + 2 + len > end) return FALLBACK;
            v = readString(src, p + 2, len);
            p += 2 + len;
            break;
          }
          default:
            return FALLBACK; // nil, binary, arrays, maps, ext, str 32: the generic decoder's business
        }
      }
      out[f.name] = v;
    }
    return p === end ? out : FALLBACK;
  };

  return { encode, decode };
}

function fieldKind(schema: TSchema): FieldKind | undefined {
  switch ((schema as unknown as Record<symbol, unknown>)[Kind]) {
    case 'BigInt':
      return 'bigint';
    case 'String':
      return 'string';
    case 'Number':
    case 'Integer':
      return 'number';
    case 'Boolean':
      return 'boolean';
    default:
      return undefined;
  }
}

/** Writes `s` with the smallest str header, as msgpackr does; returns the new position. */
function writeString(b: Buffer, p: number, s: string): number {
  const len = s.length;
  if (len < 256) {
    // Short ASCII in a JS loop: a native UTF-8 write costs more than the copy for a few bytes.
    const h = len < 32 ? 1 : 2;
    let i = 0;
    for (; i < len; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) break;
      b[p + h + i] = c;
    }
    if (i === len) {
      if (h === 1) b[p] = 0xa0 | len;
      else {
        b[p] = 0xd9;
        b[p + 1] = len;
      }
      return p + h + len;
    }
  }
  const max = len * 3;
  if (max < 32) {
    const n = b.write(s, p + 1, 'utf8');
    b[p] = 0xa0 | n;
    return p + 1 + n;
  }
  if (max < 256) {
    const n = b.write(s, p + 2, 'utf8');
    if (n < 32) {
      b.copyWithin(p + 1, p + 2, p + 2 + n);
      b[p] = 0xa0 | n;
      return p + 1 + n;
    }
    b[p] = 0xd9;
    b[p + 1] = n;
    return p + 2 + n;
  }
  const n = b.write(s, p + 3, 'utf8');
  if (n < 32) {
    b.copyWithin(p + 1, p + 3, p + 3 + n);
    b[p] = 0xa0 | n;
    return p + 1 + n;
  }
  if (n < 256) {
    b.copyWithin(p + 2, p + 3, p + 3 + n);
    b[p] = 0xd9;
    b[p + 1] = n;
    return p + 2 + n;
  }
  b[p] = 0xda;
  b[p + 1] = n >> 8;
  b[p + 2] = n & 0xff;
  return p + 3 + n;
}

/** Numbers exactly as msgpackr writes them: 32-bit integers in their smallest form, else float 64. */
function writeNumber(b: Buffer, p: number, v: number): number {
  if (v >>> 0 === v) {
    if (v < 0x80) {
      b[p] = v;
      return p + 1;
    }
    if (v < 0x100) {
      b[p] = 0xcc;
      b[p + 1] = v;
      return p + 2;
    }
    if (v < 0x10000) {
      b[p] = 0xcd;
      b[p + 1] = v >> 8;
      b[p + 2] = v & 0xff;
      return p + 3;
    }
    b[p] = 0xce;
    b.writeUInt32BE(v, p + 1);
    return p + 5;
  }
  if (v >> 0 === v) {
    if (v >= -0x20) {
      b[p] = 0x100 + v;
      return p + 1;
    }
    if (v >= -0x80) {
      b[p] = 0xd0;
      b.writeInt8(v, p + 1);
      return p + 2;
    }
    if (v >= -0x8000) {
      b[p] = 0xd1;
      b.writeInt16BE(v, p + 1);
      return p + 3;
    }
    b[p] = 0xd2;
    b.writeInt32BE(v, p + 1);
    return p + 5;
  }
  b[p] = 0xcb;
  b.writeDoubleBE(v, p + 1);
  return p + 9;
}

function matchKey(fields: readonly Field[], src: Uint8Array, p: number, klen: number): Field | undefined {
  outer: for (const f of fields) {
    const key = f.key;
    if (key.length !== klen + 1) continue;
    for (let i = 1; i <= klen; i++) if (key[i] !== src[p + i]) continue outer;
    return f;
  }
  return undefined;
}

/** Short ASCII strings are built in JS (no native call); anything else is decoded as UTF-8. */
function readString(src: Uint8Array, p: number, len: number): string {
  if (len <= 32) {
    let ascii = true;
    for (let i = 0; i < len; i++) {
      if (src[p + i]! >= 0x80) {
        ascii = false;
        break;
      }
    }
    if (ascii) {
      let s = '';
      for (let i = 0; i < len; i++) s += String.fromCharCode(src[p + i]!);
      return s;
    }
  }
  return Buffer.from(src.buffer, src.byteOffset + p, len).toString('utf8');
}

// Big-endian reads by hand. A DataView over each socket chunk (what msgpackr caches on it) costs
// more than the read when a chunk holds one frame, the usual case for calls: ~125 ns a frame.
// int64 is the exception worth a view: DataView reads it ~10 ns faster than two u32 and a shift,
// which pays once a chunk is big enough to hold many frames (the batched events case).
const SHARED_VIEW_MIN = 1024;

function view(src: Uint8Array): DataView {
  // The same cached DataView msgpackr keeps on a source buffer (over exactly its window, so
  // offsets relative to `src` stay valid): one per socket chunk, not one per frame.
  const holder = src as Uint8Array & { dataView?: DataView };
  return (holder.dataView ??= new DataView(src.buffer, src.byteOffset, src.byteLength));
}

function u32(src: Uint8Array, p: number): number {
  return ((src[p]! << 24) | (src[p + 1]! << 16) | (src[p + 2]! << 8) | src[p + 3]!) >>> 0;
}

// Floats go through one shared scratch: big-endian bytes in, the platform's order out.
const scratch = new Uint8Array(8);
const scratchF32 = new Float32Array(scratch.buffer, 0, 1);
const scratchF64 = new Float64Array(scratch.buffer);
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function f32(src: Uint8Array, p: number): number {
  for (let i = 0; i < 4; i++) scratch[LITTLE_ENDIAN ? 3 - i : i] = src[p + i]!;
  return scratchF32[0]!;
}

function f64(src: Uint8Array, p: number): number {
  for (let i = 0; i < 8; i++) scratch[LITTLE_ENDIAN ? 7 - i : i] = src[p + i]!;
  return scratchF64[0]!;
}

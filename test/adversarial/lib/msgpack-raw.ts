/**
 * A minimal MessagePack writer for malformed and oversized values ("bombs"): it writes headers
 * that announce whatever we like, so a payload can claim 2^32-1 elements in 5 bytes.
 * Well-formed values come from msgpackr; this is only for what msgpackr would refuse to write.
 */

const u8 = (n: number) => Buffer.from([n & 0xff]);
const be16 = (n: number) => {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n & 0xffff);
  return b;
};
const be32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
};

/** A str of `len` bytes of 'A' with the smallest header that fits (fixstr/str8/16/32). */
export function str(len: number, fill = 0x41): Buffer {
  const body = Buffer.alloc(len, fill);
  if (len < 32) return Buffer.concat([u8(0xa0 | len), body]);
  if (len < 0x100) return Buffer.concat([u8(0xd9), u8(len), body]);
  if (len < 0x10000) return Buffer.concat([u8(0xda), be16(len), body]);
  return Buffer.concat([u8(0xdb), be32(len), body]);
}

/** A bin 8/16/32 of `len` zero bytes (or a specific width, to test each header). */
export function bin(len: number, width: 8 | 16 | 32 = len < 0x100 ? 8 : len < 0x10000 ? 16 : 32): Buffer {
  const body = Buffer.alloc(len);
  if (width === 8) return Buffer.concat([u8(0xc4), u8(len), body]);
  if (width === 16) return Buffer.concat([u8(0xc5), be16(len), body]);
  return Buffer.concat([u8(0xc6), be32(len), body]);
}

/** An array header announcing `count` elements (array16/32), followed by `body` (maybe short). */
export function arrayHeader(count: number, width: 16 | 32): Buffer {
  return width === 16 ? Buffer.concat([u8(0xdc), be16(count)]) : Buffer.concat([u8(0xdd), be32(count)]);
}

/** A map header announcing `count` pairs (map16/32). */
export function mapHeader(count: number, width: 16 | 32): Buffer {
  return width === 16 ? Buffer.concat([u8(0xde), be16(count)]) : Buffer.concat([u8(0xdf), be32(count)]);
}

/** An array of `count` nils: a real, complete array (decodes fine, breaks any object schema). */
export function nilArray(count: number, width: 16 | 32 = count < 0x10000 ? 16 : 32): Buffer {
  return Buffer.concat([arrayHeader(count, width), Buffer.alloc(count, 0xc0)]);
}

/** A map of `count` distinct short str keys → nil. */
export function bigMap(count: number, width: 16 | 32 = count < 0x10000 ? 16 : 32): Buffer {
  const parts: Buffer[] = [mapHeader(count, width)];
  for (let i = 0; i < count; i++) parts.push(keyStr(`k${i}`), u8(0xc0));
  return Buffer.concat(parts);
}

function keyStr(s: string): Buffer {
  const b = Buffer.from(s, 'utf8');
  return b.length < 32 ? Buffer.concat([u8(0xa0 | b.length), b]) : Buffer.concat([u8(0xd9), u8(b.length), b]);
}

/** ext 8/16/32 and fixext 1..16 (PROTOCOL.md §3: no extension types allowed). */
export function ext(type: number, len: number): Buffer {
  const body = Buffer.alloc(len);
  const fixed: Record<number, number> = { 1: 0xd4, 2: 0xd5, 4: 0xd6, 8: 0xd7, 16: 0xd8 };
  if (fixed[len] !== undefined) return Buffer.concat([u8(fixed[len]!), u8(type), body]);
  if (len < 0x100) return Buffer.concat([u8(0xc7), u8(len), u8(type), body]);
  if (len < 0x10000) return Buffer.concat([u8(0xc8), be16(len), u8(type), body]);
  return Buffer.concat([u8(0xc9), be32(len), u8(type), body]);
}

/** `depth` nested one-element arrays (fixarray 1) around a nil: a stack-depth bomb. */
export function deepArrays(depth: number): Buffer {
  const b = Buffer.alloc(depth + 1, 0x91);
  b[depth] = 0xc0;
  return b;
}

/** `depth` nested one-pair maps {"a": …} around a nil. */
export function deepMaps(depth: number): Buffer {
  const unit = Buffer.from([0x81, 0xa1, 0x61]);
  return Buffer.concat([...Array.from({ length: depth }, () => unit), u8(0xc0)]);
}

/** A fixmap with str keys and raw values, for placing a bomb where an object is expected. */
export function rawMap(entries: [string, Buffer][]): Buffer {
  if (entries.length > 15) throw new RangeError('rawMap: fixmap only');
  return Buffer.concat([u8(0x80 | entries.length), ...entries.flatMap(([k, v]) => [keyStr(k), v])]);
}

/** Raw MessagePack int 64 (0xd3), as PROTOCOL.md §3 requires for bigint properties. */
export function int64(v: bigint): Buffer {
  const b = Buffer.alloc(9);
  b[0] = 0xd3;
  b.writeBigInt64BE(v, 1);
  return b;
}

/**
 * Field readers compiled once per event format: each reads one field of one event straight from
 * the page (a DataView and the Buffer over the same bytes), with bounds checks, and returns
 * `undefined` when the event is too short for it (the caller then counts the event undecodable).
 * @packageDocumentation
 */
import type { FtraceField } from './format.js';
import type { FtraceFieldValue } from './types.js';

/** Reads one field of the event whose data is `[start, start + len)` in `buf`. */
export type FieldReader = (view: DataView, buf: Buffer, start: number, len: number) => FtraceFieldValue | undefined;

const TWO_32 = 4294967296;

/** Reads a 1/2/4/8-byte integer at absolute offset `o`; 8-byte values beyond 2^53 become bigint. */
export function readInt(view: DataView, o: number, size: number, signed: boolean, le: boolean): number | bigint {
  switch (size) {
    case 1:
      return signed ? view.getInt8(o) : view.getUint8(o);
    case 2:
      return signed ? view.getInt16(o, le) : view.getUint16(o, le);
    case 4:
      return signed ? view.getInt32(o, le) : view.getUint32(o, le);
    default: {
      const lo = view.getUint32(le ? o : o + 4, le);
      if (signed) {
        const hi = view.getInt32(le ? o + 4 : o, le);
        if (hi >= -0x200000 && hi <= 0x1fffff) return hi * TWO_32 + lo;
        return (BigInt(hi) << 32n) + BigInt(lo);
      }
      const hi = view.getUint32(le ? o + 4 : o, le);
      if (hi <= 0x1fffff) return hi * TWO_32 + lo;
      return (BigInt(hi) << 32n) | BigInt(lo);
    }
  }
}

/** Text of `buf[s, e)` up to the first NUL: latin1 when it is ASCII (cheaper), else UTF-8. */
export function readCString(buf: Buffer, s: number, e: number): string {
  let i = s;
  let ascii = true;
  for (; i < e; i++) {
    const b = buf[i]!;
    if (b === 0) break;
    if (b >= 0x80) ascii = false;
  }
  return buf.toString(ascii ? 'latin1' : 'utf8', s, i);
}

function readIntArray(view: DataView, s: number, count: number, el: number, signed: boolean, le: boolean): number[] {
  const out = new Array<number>(count);
  for (let k = 0; k < count; k++) out[k] = Number(readInt(view, s + k * el, el, signed, le));
  return out;
}

function readBytes(buf: Buffer, s: number, e: number): number[] {
  return Array.from(buf.subarray(s, e));
}

/**
 * Where a `__data_loc`/`__rel_loc` field's data is: the u32 at the field holds the offset (low
 * 16 bits, from the event start or, for `__rel_loc`, from the field's end) and the length (high 16).
 */
function dynamicRange(view: DataView, start: number, len: number, field: FtraceField, le: boolean): [number, number] | undefined {
  const word = view.getUint32(start + field.offset, le);
  let off = word & 0xffff;
  const size = word >>> 16;
  if (field.relative) off += field.offset + field.size;
  if (off + size > len) return undefined;
  return [start + off, start + off + size];
}

/**
 * Compiles the reader of one field.
 * @param le little-endian kernel (x86_64, arm64)
 * @param stripNewline drop one trailing '\n' from a tail string (the marker text)
 */
export function compileField(field: FtraceField, le: boolean, stripNewline = false): FieldReader {
  const { offset, size, signed, elementSize } = field;
  const end = offset + size;
  switch (field.kind) {
    case 'int':
      return (view, _buf, start, len) => (end > len ? undefined : readInt(view, start + offset, size, signed, le));
    case 'string':
      if (field.tail)
        return (_view, buf, start, len) => {
          if (offset > len) return undefined;
          const text = readCString(buf, start + offset, start + len);
          return stripNewline && text.endsWith('\n') ? text.slice(0, -1) : text;
        };
      return (_view, buf, start, len) => (end > len ? undefined : readCString(buf, start + offset, start + end));
    case 'array': {
      if (field.tail)
        return (view, _buf, start, len) =>
          offset > len ? undefined : readIntArray(view, start + offset, Math.floor((len - offset) / elementSize), elementSize, signed, le);
      const count = Math.floor(size / elementSize);
      return (view, _buf, start, len) => (end > len ? undefined : readIntArray(view, start + offset, count, elementSize, signed, le));
    }
    case 'dynString':
      return (view, buf, start, len) => {
        if (end > len) return undefined;
        const r = dynamicRange(view, start, len, field, le);
        return r ? readCString(buf, r[0], r[1]) : undefined;
      };
    case 'dynArray':
      return (view, _buf, start, len) => {
        if (end > len) return undefined;
        const r = dynamicRange(view, start, len, field, le);
        return r ? readIntArray(view, r[0], Math.floor((r[1] - r[0]) / elementSize), elementSize, signed, le) : undefined;
      };
    default:
      if (field.tail) return (_view, buf, start, len) => (offset > len ? undefined : readBytes(buf, start + offset, start + len));
      return (_view, buf, start, len) => (end > len ? undefined : readBytes(buf, start + offset, start + end));
  }
}

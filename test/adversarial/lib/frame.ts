/**
 * Frame codec written from PROTOCOL.md §2 alone (no @vsock-rpc/wire): a 12-byte little-endian
 * header (u32 length, u16 type, u8 kind, u8 flags, u32 id) then `length` payload bytes.
 */

/** Frame kinds, PROTOCOL.md §2. */
export const Kind = { CONTROL: 0, EVENT: 1, REQUEST: 2, RESPONSE: 3, ERROR: 4 } as const;

/** Reserved control TYPE_ ids, PROTOCOL.md §4. */
export const Control = {
  HELLO: 0xff00,
  PING: 0xff01,
  PONG: 0xff02,
  CANCEL: 0xff03,
  GOAWAY: 0xff04,
  CLOCK_REQUEST: 0xff05,
  CLOCK_RESPONSE: 0xff06,
} as const;

export const HEADER_BYTES = 12;

export interface Frame {
  type: number;
  kind: number;
  flags: number;
  id: number;
  payload: Buffer;
}

/** Encodes one header; `length` may lie about the payload (slow/partial-frame attacks). */
export function encodeHeader(length: number, type: number, kind: number, flags: number, id: number): Buffer {
  const h = Buffer.alloc(HEADER_BYTES);
  h.writeUInt32LE(length >>> 0, 0);
  h.writeUInt16LE(type & 0xffff, 4);
  h.writeUInt8(kind & 0xff, 6);
  h.writeUInt8(flags & 0xff, 7);
  h.writeUInt32LE(id >>> 0, 8);
  return h;
}

/** Encodes a whole frame with an honest length. */
export function encodeFrame(f: { type: number; kind: number; flags?: number; id?: number; payload?: Buffer }): Buffer {
  const payload = f.payload ?? Buffer.alloc(0);
  return Buffer.concat([encodeHeader(payload.length, f.type, f.kind, f.flags ?? 0, f.id ?? 0), payload]);
}

/** Incremental decoder: feed it stream chunks, it yields complete frames. */
export class FrameReader {
  private buf: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): Frame[] {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    const out: Frame[] = [];
    while (this.buf.length >= HEADER_BYTES) {
      const length = this.buf.readUInt32LE(0);
      if (this.buf.length < HEADER_BYTES + length) break;
      out.push({
        type: this.buf.readUInt16LE(4),
        kind: this.buf.readUInt8(6),
        flags: this.buf.readUInt8(7),
        id: this.buf.readUInt32LE(8),
        payload: Buffer.from(this.buf.subarray(HEADER_BYTES, HEADER_BYTES + length)),
      });
      this.buf = this.buf.subarray(HEADER_BYTES + length);
    }
    return out;
  }

  /** Bytes of an incomplete frame still held (a non-zero value at EOF = TRUNCATED_FRAME). */
  get pending(): number {
    return this.buf.length;
  }
}

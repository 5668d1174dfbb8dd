// The framing of the raw and naive baseline peers (not the vsock-rpc wire's). Splits a byte
// stream of [u32 little-endian length][payload] frames, for any split of the stream. The
// callback receives (buffer, start, end) rather than a subarray so that counting peers allocate
// nothing per frame: the raw baseline is meant to be Node's ceiling.

export type FrameHandler = (buf: Buffer, start: number, end: number) => void;

export class FrameSplitter {
  // A partial frame is kept as a list of chunks and joined once complete, so a 1 MiB frame
  // arriving in 64 KiB reads is copied once, not once per read.
  private parts: Buffer[] = [];
  private partsLen = 0;
  private need = 0;

  constructor(
    private readonly onFrame: FrameHandler,
    private readonly maxFrame = 64 * 1024 * 1024,
  ) {}

  push(chunk: Buffer): void {
    let buf = chunk;
    if (this.parts.length > 0) {
      this.parts.push(chunk);
      this.partsLen += chunk.length;
      if (this.partsLen < this.need) return;
      buf = Buffer.concat(this.parts, this.partsLen);
      this.parts = [];
      this.partsLen = 0;
    }
    const n = buf.length;
    let off = 0;
    while (n - off >= 4) {
      // Inline little-endian read: readUInt32LE's bounds checks show up at millions of frames/s.
      const size = (buf[off]! | (buf[off + 1]! << 8) | (buf[off + 2]! << 16)) + buf[off + 3]! * 0x1000000;
      if (size > this.maxFrame) throw new Error(`frame of ${size} bytes exceeds the ${this.maxFrame}-byte limit`);
      const end = off + 4 + size;
      if (end > n) break;
      this.onFrame(buf, off + 4, end);
      off = end;
    }
    if (off < n) {
      const rest = buf.subarray(off);
      this.parts = [rest];
      this.partsLen = rest.length;
      this.need = rest.length >= 4 ? 4 + rest.readUInt32LE(0) : 4;
    }
  }

  /** bytes of an incomplete frame still held (non-zero at end of stream means truncation) */
  get pending(): number {
    return this.partsLen;
  }
}

/** Writes `payload` behind a 4-byte little-endian length prefix into `out` at `off`. */
export function putFrame(out: Buffer, off: number, payload: Uint8Array): number {
  out.writeUInt32LE(payload.length, off);
  out.set(payload, off + 4);
  return off + 4 + payload.length;
}

export function frame(payload: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(4 + payload.length);
  putFrame(out, 0, payload);
  return out;
}

import { DEFAULT_INLINE_LIMIT, Flags, HEADER_SIZE, Kind } from './constants.js';

/** Options of a {@link FrameEncoder}. */
export interface FrameEncoderOptions {
  /** Payloads of at most this many bytes are copied into the batch buffer (default 4096). */
  readonly inlineLimit?: number;
  /** Size of each batch buffer (default 64 KiB). */
  readonly batchSize?: number;
}

/**
 * Builds the byte chunks of many frames for one writev: the original's "small message inline,
 * large message as header + body" rule.
 *
 * - A payload at or under `inlineLimit` is copied into the batch buffer right behind its header,
 *   so a thousand small events become one contiguous chunk and one write.
 * - A larger payload is not copied: its header goes into the batch, the batch is sealed, and
 *   the payload buffer itself becomes the next chunk.
 *
 * Every byte handed out has been written: chunks are views of exactly the written regions of
 * the batch buffer (which is `allocUnsafe`, so this matters: the original leaked stack memory in
 * its unused header bytes across the VM boundary), or the caller's payload buffers.
 */
export class FrameEncoder {
  readonly inlineLimit: number;
  readonly batchSize: number;
  #buf: Buffer;
  #start = 0; // start of the region written since the last seal
  #pos = 0;
  #chunks: Buffer[] = [];
  #bytes = 0;
  #frames = 0;

  constructor(options: FrameEncoderOptions = {}) {
    this.inlineLimit = options.inlineLimit ?? DEFAULT_INLINE_LIMIT;
    this.batchSize = Math.max(options.batchSize ?? 64 * 1024, HEADER_SIZE + 4 + this.inlineLimit);
    this.#buf = Buffer.allocUnsafe(this.batchSize);
  }

  /** Bytes queued since the last {@link take}. */
  get pendingBytes(): number {
    return this.#bytes;
  }

  /** Frames queued since the last {@link take}. */
  get pendingFrames(): number {
    return this.#frames;
  }

  /**
   * Appends one frame.
   * @param deadlineMs for REQUEST frames: a relative deadline, sent as the u32 prefix that the
   *   DEADLINE flag announces. Omit for no deadline.
   * @param flags other flag bits (END on a stream's OPEN or DATA, PROTOCOL.md §11).
   */
  push(kind: Kind, type: number, id: number, payload: Uint8Array, deadlineMs?: number, flags = 0): void {
    const hasDeadline = deadlineMs !== undefined;
    const prefix = hasDeadline ? 4 : 0;
    const length = prefix + payload.length;
    const inline = payload.length <= this.inlineLimit;
    this.#reserve(HEADER_SIZE + prefix + (inline ? payload.length : 0));
    const buf = this.#buf;
    let p = this.#pos;
    buf.writeUInt32LE(length, p);
    buf.writeUInt16LE(type, p + 4);
    buf[p + 6] = kind;
    buf[p + 7] = hasDeadline ? flags | Flags.DEADLINE : flags;
    buf.writeUInt32LE(id >>> 0, p + 8);
    p += HEADER_SIZE;
    if (hasDeadline) {
      buf.writeUInt32LE(Math.min(Math.max(0, Math.ceil(deadlineMs)), 0xffffffff), p);
      p += 4;
    }
    if (inline) {
      buf.set(payload, p);
      p += payload.length;
      this.#pos = p;
    } else {
      this.#pos = p;
      this.#seal();
      this.#chunks.push(toBuffer(payload));
    }
    this.#bytes += HEADER_SIZE + length;
    this.#frames++;
  }

  /**
   * Appends one BODY frame (PROTOCOL.md §12, only where both HELLOs list "bulk"): the header,
   * the u32 body length and `value` (the MessagePack `[key, rest]`) go into the batch; `body` is
   * not copied but becomes a chunk of its own, so it must not change until the chunks are written.
   */
  pushBulk(kind: Kind, type: number, id: number, value: Uint8Array, body: Uint8Array, flags = 0): void {
    const length = 4 + value.length + body.length;
    this.#reserve(HEADER_SIZE + 4 + value.length);
    const buf = this.#buf;
    let p = this.#pos;
    buf.writeUInt32LE(length, p);
    buf.writeUInt16LE(type, p + 4);
    buf[p + 6] = kind;
    buf[p + 7] = Flags.BODY | flags;
    buf.writeUInt32LE(id >>> 0, p + 8);
    buf.writeUInt32LE(body.length, p + 12);
    p += HEADER_SIZE + 4;
    buf.set(value, p);
    this.#pos = p + value.length;
    if (body.length > 0) {
      this.#seal();
      this.#chunks.push(toBuffer(body));
    }
    this.#bytes += HEADER_SIZE + length;
    this.#frames++;
  }

  /** Returns the queued chunks, in order, and starts a new batch. */
  take(): Buffer[] {
    this.#seal();
    const chunks = this.#chunks;
    this.#chunks = [];
    this.#bytes = 0;
    this.#frames = 0;
    return chunks;
  }

  #seal(): void {
    if (this.#pos > this.#start) {
      this.#chunks.push(this.#buf.subarray(this.#start, this.#pos));
      this.#start = this.#pos;
    }
  }

  #reserve(n: number): void {
    if (this.#buf.length - this.#pos >= n) return;
    this.#seal();
    // Sealed chunks still reference the old buffer; it is freed once they are written.
    this.#buf = Buffer.allocUnsafe(Math.max(this.batchSize, n));
    this.#start = 0;
    this.#pos = 0;
  }
}

/** Encodes one frame into one new buffer: for tests, tools, control frames and simple peers. */
export function encodeFrame(kind: Kind, type: number, id: number, payload: Uint8Array, deadlineMs?: number, flags = 0): Buffer {
  const prefix = deadlineMs === undefined ? 0 : 4;
  const out = Buffer.allocUnsafe(HEADER_SIZE + prefix + payload.length);
  out.writeUInt32LE(prefix + payload.length, 0);
  out.writeUInt16LE(type, 4);
  out[6] = kind;
  out[7] = prefix ? flags | Flags.DEADLINE : flags;
  out.writeUInt32LE(id >>> 0, 8);
  if (deadlineMs !== undefined) out.writeUInt32LE(Math.min(Math.max(0, Math.ceil(deadlineMs)), 0xffffffff), HEADER_SIZE);
  out.set(payload, HEADER_SIZE + prefix);
  return out;
}

/** Kinds as a plain re-export for callers building frames by hand. */
export { Kind };

function toBuffer(u: Uint8Array): Buffer {
  return Buffer.isBuffer(u) ? u : Buffer.from(u.buffer, u.byteOffset, u.byteLength);
}

/**
 * A streaming reader of legacy frames: feed it the bytes as they arrive, in chunks of any size,
 * and it returns the decoded messages. It reads exactly 28 header bytes, then `len` more only
 * when `len` > 20, and checks the header (type, len) as soon as its first 8 bytes are in, before
 * it takes any memory for the body: it never allocates from an unchecked length.
 * @packageDocumentation
 */
import {
  LEGACY_HEADER_SIZE,
  LEGACY_INLINE_LIMIT,
  LEGACY_MAX_LEN,
  LEGACY_MESSAGEEXP_FIXED,
  LEGACY_RELAXED_MAX_LEN,
  LEGACY_TIMESTAMPS_LEN,
  LEGACY_TYPE_MESSAGEEXP,
  LEGACY_TYPE_TIMESTAMPS,
} from './constants.js';
import { decodeMessageexp, decodeTimestamps, type LegacyMessage } from './codec.js';
import { LegacyWireError } from './errors.js';

/** Options of a {@link LegacyFrameReader}. */
export interface LegacyFrameReaderOptions {
  /**
   * Largest `len` accepted (default 81 = a 65-byte string; relaxed: up to 65 552). A larger `len`
   * is refused from the header alone.
   */
  maxLen?: number;
  /** Accept messageexp strings of 0 bytes and longer than 65 (up to `maxLen`). Default false. */
  relaxed?: boolean;
}

/**
 * Frames from a byte stream. After the first error every later call throws that same error:
 * the stream cannot be resynchronised (the wire has no magic), so the connection must close.
 */
export class LegacyFrameReader {
  readonly #maxLen: number;
  readonly #relaxed: boolean;
  readonly #header = Buffer.alloc(LEGACY_HEADER_SIZE);
  #headerFill = 0;
  #type = 0;
  #len = 0;
  #body: Buffer | undefined;
  #bodyFill = 0;
  #error: LegacyWireError | undefined;
  #frames = 0;

  constructor(options: LegacyFrameReaderOptions = {}) {
    this.#relaxed = options.relaxed ?? false;
    const limit = this.#relaxed ? LEGACY_RELAXED_MAX_LEN : LEGACY_MAX_LEN;
    const maxLen = options.maxLen ?? limit;
    if (!Number.isInteger(maxLen) || maxLen < LEGACY_TIMESTAMPS_LEN || maxLen > limit) {
      throw new LegacyWireError('ERR_INVALID_ARG_VALUE', `maxLen must be an integer in ${LEGACY_TIMESTAMPS_LEN}..${limit}, got ${String(maxLen)}`);
    }
    this.#maxLen = maxLen;
  }

  /** Whether part of a frame has been read and the rest is awaited. */
  get inFrame(): boolean {
    return this.#headerFill > 0;
  }

  /** Bytes of the current, incomplete frame read so far. */
  get pendingBytes(): number {
    return this.#headerFill + this.#bodyFill;
  }

  /** The size of the current frame once its header is known (28, or 28 + len), else undefined. */
  get frameSize(): number | undefined {
    if (this.#headerFill < 8) return undefined;
    return this.#len > LEGACY_INLINE_LIMIT ? LEGACY_HEADER_SIZE + this.#len : LEGACY_HEADER_SIZE;
  }

  /** Complete frames decoded so far. */
  get frames(): number {
    return this.#frames;
  }

  /**
   * Reads `chunk` and returns the messages it completed, in order.
   * @throws {@link LegacyWireError} on the first bad frame (and on every call after it).
   */
  push(chunk: Uint8Array): LegacyMessage[] {
    if (this.#error) throw this.#error;
    const out: LegacyMessage[] = [];
    let at = 0;
    try {
      while (at < chunk.byteLength) {
        if (this.#headerFill < LEGACY_HEADER_SIZE) {
          const n = Math.min(LEGACY_HEADER_SIZE - this.#headerFill, chunk.byteLength - at);
          const before = this.#headerFill;
          this.#header.set(chunk.subarray(at, at + n), before);
          this.#headerFill += n;
          at += n;
          if (before < 8 && this.#headerFill >= 8) this.#checkHeader();
          if (this.#headerFill < LEGACY_HEADER_SIZE) continue;
          if (this.#len <= LEGACY_INLINE_LIMIT) {
            out.push(this.#decode(this.#header.subarray(8, 8 + this.#len)));
            continue;
          }
          this.#body = Buffer.allocUnsafe(this.#len); // len checked above; every byte is overwritten
          this.#bodyFill = 0;
          continue;
        }
        const body = this.#body!;
        const n = Math.min(body.length - this.#bodyFill, chunk.byteLength - at);
        body.set(chunk.subarray(at, at + n), this.#bodyFill);
        this.#bodyFill += n;
        at += n;
        if (this.#bodyFill === body.length) out.push(this.#decode(body));
      }
    } catch (err) {
      this.#error = err instanceof LegacyWireError ? err : new LegacyWireError('LEGACY_BAD_LENGTH', String(err), { cause: err });
      throw this.#error;
    }
    return out;
  }

  /**
   * The stream ended: throws `LEGACY_TRUNCATED` when it ended inside a frame.
   * @throws {@link LegacyWireError}
   */
  end(): void {
    if (this.#error) throw this.#error;
    if (this.inFrame) {
      this.#error = new LegacyWireError(
        'LEGACY_TRUNCATED',
        `stream ended inside a frame (${this.pendingBytes} of ${this.frameSize ?? LEGACY_HEADER_SIZE} bytes read)`,
      );
      throw this.#error;
    }
  }

  #checkHeader(): void {
    const type = this.#header.readInt32LE(0);
    const len = this.#header.readInt32LE(4);
    if (type !== LEGACY_TYPE_TIMESTAMPS && type !== LEGACY_TYPE_MESSAGEEXP) {
      throw new LegacyWireError('LEGACY_BAD_TYPE', `frame type ${type}: only 3 (timestamps) and 4 (messageexp) are accepted`);
    }
    if (type === LEGACY_TYPE_TIMESTAMPS && len !== LEGACY_TIMESTAMPS_LEN) {
      throw new LegacyWireError('LEGACY_BAD_LENGTH', `timestamps frame with len ${len}, ${LEGACY_TIMESTAMPS_LEN} expected`);
    }
    if (type === LEGACY_TYPE_MESSAGEEXP) {
      const min = LEGACY_MESSAGEEXP_FIXED + (this.#relaxed ? 0 : 1);
      if (len < min || len > this.#maxLen) {
        throw new LegacyWireError('LEGACY_BAD_LENGTH', `messageexp frame with len ${len}, accepted: ${min}..${this.#maxLen}`);
      }
    }
    this.#type = type;
    this.#len = len;
  }

  #decode(payload: Uint8Array): LegacyMessage {
    const type = this.#type;
    const msg: LegacyMessage =
      type === LEGACY_TYPE_TIMESTAMPS
        ? { type: LEGACY_TYPE_TIMESTAMPS, ...decodeTimestamps(payload) }
        : { type: LEGACY_TYPE_MESSAGEEXP, ...decodeMessageexp(payload, { relaxed: this.#relaxed }) };
    this.#headerFill = 0;
    this.#bodyFill = 0;
    this.#body = undefined;
    this.#frames++;
    return msg;
  }
}

/**
 * Decodes one whole frame held in `bytes` (exactly one frame: nothing missing, nothing after it).
 * @throws {@link LegacyWireError}
 */
export function decodeLegacyFrame(bytes: Uint8Array, options?: LegacyFrameReaderOptions): LegacyMessage {
  const reader = new LegacyFrameReader(options);
  const size = () => reader.frameSize ?? LEGACY_HEADER_SIZE;
  if (bytes.byteLength >= 8) reader.push(bytes.subarray(0, 8));
  const end = bytes.byteLength >= 8 ? size() : bytes.byteLength;
  const msgs = reader.push(bytes.subarray(bytes.byteLength >= 8 ? 8 : 0, Math.min(end, bytes.byteLength)));
  reader.end();
  if (bytes.byteLength > end) throw new LegacyWireError('LEGACY_TRAILING_BYTES', `${bytes.byteLength - end} bytes after the frame`);
  return msgs[0]!;
}

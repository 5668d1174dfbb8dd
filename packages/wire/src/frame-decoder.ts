import { BULK_MAX_VALUE, DEFAULT_MAX_FRAME, Flags, HEADER_SIZE, KNOWN_FLAGS, Kind, MAX_FRAME_CEILING } from './constants.js';
import { BadBodyError } from './bulk-error.js';
import { BadFlagsError, BadKindError, FrameTooLargeError, ProtocolError, TruncatedFrameError, UnknownTypeError } from './errors.js';

/** One decoded frame. `payload` excludes the deadline prefix of a REQUEST. */
export interface Frame {
  readonly kind: Kind;
  readonly type: number;
  readonly flags: number;
  readonly id: number;
  /** Relative deadline in ms of a REQUEST with the DEADLINE flag, else undefined. */
  readonly deadlineMs: number | undefined;
  /**
   * The payload bytes. Often a view into the socket's chunk (no copy): copy it if you keep it
   * longer than the frame handler (decoded values alias it only when {@link owned}).
   */
  readonly payload: Buffer;
  /**
   * The buffer the payload lies in, and its range: `source.subarray(start, end)` is `payload`.
   * Decoding in place (Codec's `*At` methods) skips a Buffer and a DataView per frame.
   */
  readonly source: Buffer;
  readonly start: number;
  readonly end: number;
  /**
   * Whether `source` is a buffer the decoder allocated for this frame alone (its payload spanned
   * socket chunks and is at least {@link OWNED_MIN} bytes, so not carved from Node's shared
   * pool): nothing else will ever write to it, so decoded binary may be a view into it instead
   * of a copy.
   */
  readonly owned: boolean;
  /**
   * A BODY frame's body (PROTOCOL.md §12): a buffer of exactly its size that the decoder
   * allocated for it alone and never touches again. `payload` is then the MessagePack
   * `[key, rest]` only. Undefined for every other frame.
   */
  readonly body?: Buffer | undefined;
}

/**
 * Payloads from this size up, assembled across chunks, get a buffer of their own: Node's
 * Buffer.allocUnsafe serves smaller sizes from a shared 8 KiB pool (Buffer.poolSize / 2).
 */
export const OWNED_MIN = 4096;

/** A frame whose payload view is made only if someone asks for it. */
class FrameView implements Frame {
  #payload: Buffer | undefined;
  constructor(
    readonly kind: Kind,
    readonly type: number,
    readonly flags: number,
    readonly id: number,
    readonly deadlineMs: number | undefined,
    readonly source: Buffer,
    readonly start: number,
    readonly end: number,
    readonly owned: boolean,
    readonly body?: Buffer,
  ) {}
  get payload(): Buffer {
    return (this.#payload ??= this.source.subarray(this.start, this.end));
  }
}

/** Options of a {@link FrameDecoder}. */
export interface FrameDecoderOptions {
  /** Largest payload accepted (default 16 MiB). Checked before anything is allocated. */
  readonly maxFrame?: number;
  /**
   * Whether a TYPE_ id is acceptable for a kind; a `false` is an {@link UnknownTypeError}.
   * Default: everything is acceptable (the engine answers unknown methods with an ERROR frame).
   */
  readonly isKnownType?: (kind: Kind, type: number) => boolean;
  /** Allocator for payloads split across chunks (default Buffer.allocUnsafe); a seam for tests. */
  readonly allocate?: (size: number) => Buffer;
  /**
   * Accept the stream kinds (OPEN, DATA, WINDOW, RESET) and the END flag (default false: a
   * kind above ERROR is BAD_KIND, as in every peer without the feature). The engine turns it on
   * once both HELLOs list "streams" (PROTOCOL.md §11).
   */
  readonly streams?: boolean;
  /** Accept the BODY flag on EVENT frames, and on DATA frames when {@link streams} is on too (default false); on once both HELLOs list "bulk" (PROTOCOL.md §12). */
  readonly bulk?: boolean;
}

const EMPTY = Buffer.alloc(0);

/**
 * A streaming frame decoder. Feed it the byte stream in chunks of any size, one byte at a time
 * included; it calls `onFrame` once per complete frame, in order.
 *
 * Bad input throws a {@link ProtocolError} subclass from `push` (frame too large, bad kind, bad
 * flags, unknown type) or from `end` (truncated); after that the decoder refuses further input:
 * the stream has lost framing and the connection must close.
 */
export class FrameDecoder {
  /** Current maximum payload; the engine lowers or raises it after HELLO. */
  maxFrame: number;
  /** Whether the stream kinds and the END flag are accepted (see {@link FrameDecoderOptions.streams}). */
  streams: boolean;
  /** Whether the BODY flag is accepted (see {@link FrameDecoderOptions.bulk}). */
  bulk: boolean;
  readonly #onFrame: (frame: Frame) => void;
  readonly #isKnownType: ((kind: Kind, type: number) => boolean) | undefined;
  readonly #allocate: (size: number) => Buffer;
  readonly #header = Buffer.alloc(HEADER_SIZE);
  #headerHave = 0;
  // The frame whose payload is being assembled across chunks.
  #kind: Kind = Kind.EVENT;
  #type = 0;
  #flags = 0;
  #id = 0;
  #payload: Buffer | undefined;
  #payloadHave = 0;
  #failed: ProtocolError | undefined;
  // A BODY frame in progress: 1 = its u32 body length, 2 = its [key, rest], 3 = its body.
  #bulkStage = 0;
  #bulkLength = 0;
  #bulkHave = 0;
  readonly #bulkPrefix = Buffer.alloc(4);
  #bulkValue: Buffer = EMPTY;
  #bulkBody: Buffer = EMPTY;

  constructor(onFrame: (frame: Frame) => void, options: FrameDecoderOptions = {}) {
    this.#onFrame = onFrame;
    this.maxFrame = Math.min(options.maxFrame ?? DEFAULT_MAX_FRAME, MAX_FRAME_CEILING);
    this.#isKnownType = options.isKnownType;
    this.#allocate = options.allocate ?? Buffer.allocUnsafe;
    this.streams = options.streams ?? false;
    this.bulk = options.bulk ?? false;
  }

  /** Bytes held for a frame not yet complete. */
  get bufferedBytes(): number {
    return this.#headerHave + this.#payloadHave + (this.#bulkStage === 0 ? 0 : this.#bulkBuffered());
  }

  /**
   * The announced total size (header + payload) of the frame in progress, or 0 between frames.
   * A partial header counts as a frame of {@link HEADER_SIZE} bytes: its length is not known yet.
   * The engine's progress deadline (a frame must complete within a time that grows with its size)
   * reads it.
   */
  get pendingFrameBytes(): number {
    if (this.#payload) return HEADER_SIZE + this.#payload.length;
    if (this.#bulkStage !== 0) return HEADER_SIZE + this.#bulkLength;
    return this.#headerHave > 0 ? HEADER_SIZE : 0;
  }

  /** Feeds the next chunk of the stream. @throws ProtocolError on bad input. */
  push(chunk: Buffer): void {
    if (this.#failed) throw this.#failed;
    try {
      this.#push(chunk);
    } catch (err) {
      if (err instanceof ProtocolError) this.#failed = err;
      throw err;
    }
  }

  /** Declares the end of the stream. @throws TruncatedFrameError if a frame is incomplete. */
  end(): void {
    if (this.#failed) return;
    if (this.#payload) throw new TruncatedFrameError(HEADER_SIZE + this.#payloadHave, HEADER_SIZE + this.#payload.length);
    if (this.#bulkStage !== 0) throw new TruncatedFrameError(HEADER_SIZE + this.#bulkBuffered(), HEADER_SIZE + this.#bulkLength);
    if (this.#headerHave > 0) throw new TruncatedFrameError(this.#headerHave, HEADER_SIZE);
  }

  #push(chunk: Buffer): void {
    const n = chunk.length;
    let off = 0;
    while (off < n) {
      if (this.#bulkStage !== 0) {
        off = this.#pushBulk(chunk, off);
        continue;
      }
      const pending = this.#payload;
      if (pending) {
        const take = Math.min(pending.length - this.#payloadHave, n - off);
        chunk.copy(pending, this.#payloadHave, off, off + take);
        this.#payloadHave += take;
        off += take;
        if (this.#payloadHave === pending.length) {
          this.#payload = undefined;
          this.#payloadHave = 0;
          this.#emit(pending, 0, pending.length, pending.length >= OWNED_MIN && this.#allocate === Buffer.allocUnsafe);
        }
        continue;
      }
      let length: number;
      if (this.#headerHave > 0 || n - off < HEADER_SIZE) {
        const take = Math.min(HEADER_SIZE - this.#headerHave, n - off);
        chunk.copy(this.#header, this.#headerHave, off, off + take);
        this.#headerHave += take;
        off += take;
        if (this.#headerHave < HEADER_SIZE) return;
        this.#headerHave = 0;
        length = this.#parseHeader(this.#header, 0);
      } else {
        length = this.#parseHeader(chunk, off);
        off += HEADER_SIZE;
      }
      if (this.#flags & Flags.BODY) {
        this.#bulkStage = 1;
        this.#bulkLength = length;
        this.#bulkHave = 0;
      } else if (length === 0) {
        this.#emit(EMPTY, 0, 0, false);
      } else if (n - off >= length) {
        this.#emit(chunk, off, off + length, false);
        off += length;
      } else {
        // Only now, with the length checked against maxFrame, is memory for the payload taken.
        this.#payload = this.#allocate(length);
        this.#payloadHave = 0;
      }
    }
  }

  /** Validates a header and remembers its fields; returns the payload length. */
  #parseHeader(b: Buffer, o: number): number {
    // Plain byte arithmetic: Buffer#readUInt32LE validates its offset on every call.
    const length = (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16)) + b[o + 3]! * 0x1000000;
    const type = b[o + 4]! | (b[o + 5]! << 8);
    const kind = b[o + 6]!;
    const flags = b[o + 7]!;
    const id = (b[o + 8]! | (b[o + 9]! << 8) | (b[o + 10]! << 16)) + b[o + 11]! * 0x1000000;
    if (kind > (this.streams ? Kind.RESET : Kind.ERROR)) throw new BadKindError(kind);
    if (flags !== 0) {
      if (flags & ~(this.bulk ? KNOWN_FLAGS | Flags.BODY : KNOWN_FLAGS) || (!this.streams && flags & Flags.END))
        throw new BadFlagsError(
          flags,
          `bits other than ${this.streams ? '0x01 (DEADLINE) and 0x02 (END)' : '0x01 (DEADLINE)'}${this.bulk ? ' and 0x04 (BODY)' : ''} must be zero in protocol 1`,
        );
      if (flags & Flags.BODY) {
        if (kind !== Kind.EVENT && !(kind === Kind.DATA && this.streams)) throw new BadFlagsError(flags, 'BODY is only valid on EVENT and DATA frames');
        if (length < 5) throw new BadFlagsError(flags, 'a BODY frame needs the 4-byte body length and a value of at least one byte');
      }
      if (flags & Flags.DEADLINE) {
        if (kind !== Kind.REQUEST && kind !== Kind.OPEN) throw new BadFlagsError(flags, 'DEADLINE is only valid on REQUEST and OPEN frames');
        if (length < 4) throw new BadFlagsError(flags, 'a DEADLINE frame needs at least the 4-byte deadline prefix');
      }
      if (flags & Flags.END && kind !== Kind.OPEN && kind !== Kind.DATA) throw new BadFlagsError(flags, 'END is only valid on OPEN and DATA frames');
    }
    if (length > this.maxFrame) throw new FrameTooLargeError(length, this.maxFrame);
    if (this.#isKnownType && !this.#isKnownType(kind as Kind, type)) throw new UnknownTypeError(type, kind);
    this.#kind = kind as Kind;
    this.#type = type;
    this.#flags = flags;
    this.#id = id;
    return length;
  }

  /** Bytes held for the BODY frame in progress. */
  #bulkBuffered(): number {
    if (this.#bulkStage === 1) return this.#bulkHave;
    return 4 + (this.#bulkStage === 2 ? this.#bulkHave : this.#bulkValue.length + this.#bulkHave);
  }

  /**
   * Reads a BODY frame (PROTOCOL.md §12) from `chunk` at `off`: its body length, then its
   * `[key, rest]` into a buffer of its own, then its body straight into one buffer of exactly
   * the body's size, allocated once the length is checked and never reused. Returns the new offset.
   */
  #pushBulk(chunk: Buffer, off: number): number {
    const n = chunk.length;
    if (this.#bulkStage === 1) {
      const take = Math.min(4 - this.#bulkHave, n - off);
      chunk.copy(this.#bulkPrefix, this.#bulkHave, off, off + take);
      this.#bulkHave += take;
      off += take;
      if (this.#bulkHave < 4) return off;
      const bodyLength = this.#bulkPrefix.readUInt32LE(0);
      const valueLength = this.#bulkLength - 4 - bodyLength;
      if (valueLength < 1)
        throw new BadBodyError(this.#bulkLength, bodyLength, 'longer than the frame leaves after the length prefix and a value of at least one byte');
      if (valueLength > BULK_MAX_VALUE)
        throw new BadBodyError(this.#bulkLength, bodyLength, `that leaves a value of ${valueLength} bytes, above ${BULK_MAX_VALUE}`);
      this.#bulkValue = Buffer.allocUnsafe(valueLength);
      this.#bulkBody = bodyLength === 0 ? EMPTY : this.#allocate === Buffer.allocUnsafe ? Buffer.allocUnsafeSlow(bodyLength) : this.#allocate(bodyLength);
      this.#bulkStage = 2;
      this.#bulkHave = 0;
      return off;
    }
    const target = this.#bulkStage === 2 ? this.#bulkValue : this.#bulkBody;
    const take = Math.min(target.length - this.#bulkHave, n - off);
    chunk.copy(target, this.#bulkHave, off, off + take);
    this.#bulkHave += take;
    off += take;
    if (this.#bulkHave < target.length) return off;
    this.#bulkHave = 0;
    if (this.#bulkStage === 2 && this.#bulkBody.length > 0) {
      this.#bulkStage = 3;
      return off;
    }
    const value = this.#bulkValue;
    const body = this.#bulkBody;
    this.#bulkStage = 0;
    this.#bulkValue = EMPTY;
    this.#bulkBody = EMPTY;
    this.#onFrame(new FrameView(this.#kind, this.#type, this.#flags, this.#id, undefined, value, 0, value.length, false, body));
    return off;
  }

  #emit(source: Buffer, start: number, end: number, owned: boolean): void {
    let deadlineMs: number | undefined;
    if (this.#flags & Flags.DEADLINE) {
      deadlineMs = source.readUInt32LE(start);
      start += 4;
    }
    this.#onFrame(new FrameView(this.#kind, this.#type, this.#flags, this.#id, deadlineMs, source, start, end, owned));
  }
}

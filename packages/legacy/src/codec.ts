/**
 * The two payloads of the legacy wire in cereal's BinaryArchive encoding (little-endian raw
 * integers; a std::string is a uint64 length followed by its bytes), and whole frames.
 * @packageDocumentation
 */
import {
  LEGACY_HEADER_SIZE,
  LEGACY_INLINE_LIMIT,
  LEGACY_MAX_TEXT,
  LEGACY_MESSAGEEXP_FIXED,
  LEGACY_TIMESTAMPS_LEN,
  LEGACY_TYPE_MESSAGEEXP,
  LEGACY_TYPE_TIMESTAMPS,
  type LegacyType,
} from './constants.js';
import { LegacyWireError } from './errors.js';

/** A `messageexp`: one event, `timestamp` in ns (the server's clock once the client applied Δt). */
export interface LegacyMessageexp {
  timestamp: bigint;
  text: string;
}

/** A `timestamps`: in a reply, the server's T1′ (`recvtime`) and T2′ (`sendtime`), ns. */
export interface LegacyTimestamps {
  recvtime: bigint;
  sendtime: bigint;
}

/** A decoded frame. */
export type LegacyMessage = ({ type: typeof LEGACY_TYPE_MESSAGEEXP } & LegacyMessageexp) | ({ type: typeof LEGACY_TYPE_TIMESTAMPS } & LegacyTimestamps);

/** How strictly a messageexp string is checked. */
export interface LegacyStringOptions {
  /** Allow strings of 0 bytes and longer than 65 (up to the reader's `maxLen`). Default false. */
  relaxed?: boolean;
}

const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;
const utf8 = new TextDecoder('utf-8', { fatal: true });

function checkInt64(name: string, v: bigint): void {
  if (typeof v !== 'bigint' || v < INT64_MIN || v > INT64_MAX) {
    throw new LegacyWireError('ERR_INVALID_ARG_VALUE', `${name} must be a bigint in the int64 range, got ${String(v)}`);
  }
}

function checkTextLength(n: number, options: LegacyStringOptions | undefined, what: string): void {
  if (options?.relaxed) return;
  if (n < 1 || n > LEGACY_MAX_TEXT) {
    throw new LegacyWireError('LEGACY_BAD_STRING', `${what}: string of ${n} bytes, the legacy wire carries 1..${LEGACY_MAX_TEXT}`);
  }
}

/** The cereal bytes of a messageexp: int64 timestamp, uint64 n, n UTF-8 bytes. */
export function encodeMessageexp(m: LegacyMessageexp, options?: LegacyStringOptions): Buffer {
  checkInt64('timestamp', m.timestamp);
  const text = Buffer.from(m.text, 'utf8');
  checkTextLength(text.length, options, 'encodeMessageexp');
  const out = Buffer.alloc(LEGACY_MESSAGEEXP_FIXED + text.length);
  out.writeBigInt64LE(m.timestamp, 0);
  out.writeBigUInt64LE(BigInt(text.length), 8);
  text.copy(out, LEGACY_MESSAGEEXP_FIXED);
  return out;
}

/**
 * Decodes a messageexp payload. The string length must match the payload exactly: a longer
 * one is `LEGACY_BAD_STRING`, a shorter one leaves `LEGACY_TRAILING_BYTES`.
 */
export function decodeMessageexp(payload: Uint8Array, options?: LegacyStringOptions): LegacyMessageexp {
  const b = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
  if (b.length < LEGACY_MESSAGEEXP_FIXED) {
    throw new LegacyWireError('LEGACY_BAD_LENGTH', `messageexp payload of ${b.length} bytes, at least ${LEGACY_MESSAGEEXP_FIXED} needed`);
  }
  const timestamp = b.readBigInt64LE(0);
  const n = b.readBigUInt64LE(8);
  const room = BigInt(b.length - LEGACY_MESSAGEEXP_FIXED);
  if (n > room) throw new LegacyWireError('LEGACY_BAD_STRING', `messageexp string of ${n} bytes in a payload with room for ${room}`);
  if (n < room) throw new LegacyWireError('LEGACY_TRAILING_BYTES', `messageexp payload has ${room - n} bytes after its string`);
  checkTextLength(Number(n), options, 'messageexp');
  let text: string;
  try {
    text = utf8.decode(b.subarray(LEGACY_MESSAGEEXP_FIXED));
  } catch (err) {
    throw new LegacyWireError('LEGACY_BAD_STRING', 'messageexp string is not valid UTF-8', { cause: err });
  }
  return { timestamp, text };
}

/** The cereal bytes of a timestamps: int64 recvtime, int64 sendtime. */
export function encodeTimestamps(t: LegacyTimestamps): Buffer {
  checkInt64('recvtime', t.recvtime);
  checkInt64('sendtime', t.sendtime);
  const out = Buffer.alloc(LEGACY_TIMESTAMPS_LEN);
  out.writeBigInt64LE(t.recvtime, 0);
  out.writeBigInt64LE(t.sendtime, 8);
  return out;
}

/** Decodes a timestamps payload (exactly 16 bytes). */
export function decodeTimestamps(payload: Uint8Array): LegacyTimestamps {
  if (payload.byteLength !== LEGACY_TIMESTAMPS_LEN) {
    throw new LegacyWireError(
      payload.byteLength > LEGACY_TIMESTAMPS_LEN ? 'LEGACY_TRAILING_BYTES' : 'LEGACY_BAD_LENGTH',
      `timestamps payload of ${payload.byteLength} bytes, ${LEGACY_TIMESTAMPS_LEN} expected`,
    );
  }
  const b = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
  return { recvtime: b.readBigInt64LE(0), sendtime: b.readBigInt64LE(8) };
}

/**
 * One frame, ready for a single write: the 28-byte header (type, len, and the payload itself
 * when it fits in the 20 inline bytes) followed by the payload when it does not. Every byte is
 * initialised: the unused inline area is zero.
 */
export function encodeLegacyFrame(type: LegacyType, payload: Uint8Array): Buffer {
  if (type !== LEGACY_TYPE_MESSAGEEXP && type !== LEGACY_TYPE_TIMESTAMPS) {
    throw new LegacyWireError('ERR_INVALID_ARG_VALUE', `legacy frame type must be 3 or 4, got ${String(type)}`);
  }
  const len = payload.byteLength;
  const inline = len <= LEGACY_INLINE_LIMIT;
  const out = Buffer.alloc(LEGACY_HEADER_SIZE + (inline ? 0 : len)); // zero-filled
  out.writeInt32LE(type, 0);
  out.writeInt32LE(len, 4);
  out.set(payload, inline ? 8 : LEGACY_HEADER_SIZE);
  return out;
}

/** A messageexp frame (inline iff its payload is ≤ 20 bytes, i.e. a string of ≤ 4 bytes). */
export function encodeMessageexpFrame(m: LegacyMessageexp, options?: LegacyStringOptions): Buffer {
  return encodeLegacyFrame(LEGACY_TYPE_MESSAGEEXP, encodeMessageexp(m, options));
}

/**
 * A clock request: a timestamps frame whose 16 payload bytes are zero (the original sends an
 * uninitialised object; its server ignores the contents but needs len ≥ 16).
 */
export function encodeClockRequestFrame(): Buffer {
  return encodeLegacyFrame(LEGACY_TYPE_TIMESTAMPS, Buffer.alloc(LEGACY_TIMESTAMPS_LEN));
}

/** A clock reply: timestamps {recvtime = T1′, sendtime = T2′}, one 28-byte frame. */
export function encodeClockReplyFrame(t: LegacyTimestamps): Buffer {
  return encodeLegacyFrame(LEGACY_TYPE_TIMESTAMPS, encodeTimestamps(t));
}

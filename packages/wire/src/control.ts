import { Type, type Static } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { decodeWith } from './codec.js';
import { CLOCK_REQUEST_SIZE, CLOCK_RESPONSE_SIZE, MAX_FRAME_CEILING, MAX_STREAM_WINDOW, MIN_STREAM_WINDOW, WINDOW_SIZE } from './constants.js';
import { DecodeError } from './errors.js';
import { pack } from './msgpack.js';

/**
 * HELLO: the first frame each side sends (CONTROL, type 0xFF00, id 0). Both sides send
 * theirs without waiting for the other's, then compare (PROTOCOL.md, "Handshake").
 */
export const HelloSchema = Type.Object(
  {
    /** PROTOCOL_VERSION of the sender. */
    version: Type.Integer({ minimum: 0, maximum: 0xffff }),
    /** Registry fingerprint (32 hex digits). */
    fingerprint: Type.String({ maxLength: 64 }),
    /** Free-form peer name, e.g. a guest's hostname. */
    name: Type.String({ maxLength: 256 }),
    /** Largest payload the sender accepts: 1024 … 1 GiB (PROTOCOL.md, "Limits"). */
    maxFrame: Type.Integer({ minimum: 1024, maximum: MAX_FRAME_CEILING }),
    /** The sender's inline limit (informational: framing is the same either way). */
    inlineLimit: Type.Integer({ minimum: 0, maximum: 0xffffffff }),
    /** Registry summary: [id, name, kind ('m' message | 'r' method), hash]. */
    types: Type.Array(Type.Tuple([Type.Integer(), Type.String(), Type.String(), Type.String()]), { maxItems: 0xff00 }),
    /** Optional features the sender supports, e.g. 'clock'. Unknown ones are ignored. */
    features: Type.Optional(Type.Array(Type.String({ maxLength: 64 }), { maxItems: 64 })),
    /** With feature 'streams': credit in bytes the sender grants per stream at its opening (PROTOCOL.md §11). */
    streamWindow: Type.Optional(Type.Integer({ minimum: MIN_STREAM_WINDOW, maximum: MAX_STREAM_WINDOW })),
    /** With feature 'streams': most streams the peer may have open that the peer opened. */
    maxStreams: Type.Optional(Type.Integer({ minimum: 0, maximum: 0xffffffff })),
  },
  { additionalProperties: true },
);
/** A decoded HELLO. */
export type Hello = Static<typeof HelloSchema>;

/** Payload of an ERROR frame and of GOAWAY. */
export const ErrorPayloadSchema = Type.Object(
  {
    /** Stable code, e.g. 'UNKNOWN_METHOD', 'DEADLINE_EXCEEDED', 'HANDLER_ERROR'. */
    code: Type.String({ maxLength: 128 }),
    /** Human-readable message. */
    message: Type.String({ maxLength: 65536 }),
    /** Optional structured detail. */
    details: Type.Optional(Type.Unknown()),
  },
  { additionalProperties: true },
);
/** A decoded ERROR / GOAWAY payload. */
export type ErrorPayload = Static<typeof ErrorPayloadSchema>;

const checkHello = TypeCompiler.Compile(HelloSchema);
const checkError = TypeCompiler.Compile(ErrorPayloadSchema);

/** Encodes a HELLO payload. */
export function encodeHello(hello: Hello): Buffer {
  return pack(hello);
}
/** Decodes and validates a HELLO payload. */
export function decodeHello(payload: Uint8Array): Hello {
  return decodeWith(checkHello, 'HELLO', payload) as Hello;
}
/** Encodes an ERROR or GOAWAY payload. */
export function encodeErrorPayload(p: ErrorPayload): Buffer {
  return pack(p);
}
/** Decodes and validates an ERROR or GOAWAY payload. */
export function decodeErrorPayload(payload: Uint8Array): ErrorPayload {
  return decodeWith(checkError, 'ERROR', payload) as ErrorPayload;
}

/** CLOCK_REQUEST payload: T1, the requester's send time (i64 LE ns). */
export function encodeClockRequest(t1: bigint): Buffer {
  const b = Buffer.alloc(CLOCK_REQUEST_SIZE);
  b.writeBigInt64LE(t1, 0);
  return b;
}
/** Reads T1 from a CLOCK_REQUEST payload. */
export function decodeClockRequest(payload: Uint8Array): bigint {
  if (payload.length !== CLOCK_REQUEST_SIZE) throw new DecodeError('CLOCK_REQUEST', `payload must be ${CLOCK_REQUEST_SIZE} bytes, got ${payload.length}`);
  return Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).readBigInt64LE(0);
}
/** The three timestamps of a CLOCK_RESPONSE (i64 LE ns each). */
export interface ClockResponse {
  /** Echo of the request's T1 (requester's clock). */
  readonly t1: bigint;
  /** T1′: when the responder received the request (responder's clock). */
  readonly t1r: bigint;
  /** T2′: when the responder sent the response (responder's clock). */
  readonly t2r: bigint;
}
/**
 * Encodes a CLOCK_RESPONSE. T2′ is written last by {@link stampClockResponse}, as late as
 * possible before the write; this writes it as given.
 */
export function encodeClockResponse(r: ClockResponse): Buffer {
  const b = Buffer.alloc(CLOCK_RESPONSE_SIZE);
  b.writeBigInt64LE(r.t1, 0);
  b.writeBigInt64LE(r.t1r, 8);
  b.writeBigInt64LE(r.t2r, 16);
  return b;
}
/** Overwrites T2′ in an encoded CLOCK_RESPONSE payload (offset 16). */
export function stampClockResponse(payload: Buffer, t2r: bigint): void {
  payload.writeBigInt64LE(t2r, 16);
}
/** Reads a CLOCK_RESPONSE payload. */
export function decodeClockResponse(payload: Uint8Array): ClockResponse {
  if (payload.length !== CLOCK_RESPONSE_SIZE) throw new DecodeError('CLOCK_RESPONSE', `payload must be ${CLOCK_RESPONSE_SIZE} bytes, got ${payload.length}`);
  const b = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
  return { t1: b.readBigInt64LE(0), t1r: b.readBigInt64LE(8), t2r: b.readBigInt64LE(16) };
}

/** WINDOW payload (PROTOCOL.md §11): the u32 LE credit increment, 1 … 2^31−1. */
export function encodeWindow(increment: number): Buffer {
  const b = Buffer.allocUnsafe(WINDOW_SIZE);
  b.writeUInt32LE(increment >>> 0, 0);
  return b;
}
/**
 * Reads a WINDOW payload.
 * @throws DecodeError unless it is 4 bytes holding an increment of 1 … 2^31−1.
 */
export function decodeWindow(payload: Uint8Array): number {
  if (payload.length !== WINDOW_SIZE) throw new DecodeError('WINDOW', `payload must be ${WINDOW_SIZE} bytes, got ${payload.length}`);
  const n = (payload[0]! | (payload[1]! << 8) | (payload[2]! << 16)) + payload[3]! * 0x1000000;
  if (n === 0 || n > 0x7fffffff) throw new DecodeError('WINDOW', `the increment must be 1 … 2^31−1, got ${n}`);
  return n;
}

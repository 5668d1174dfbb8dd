/**
 * The typed errors of `@vsock-rpc/legacy`. Like every vsock-rpc error they derive from
 * {@link VsockRpcError} and carry a stable `code` (listed in {@link LEGACY_ERROR_CODES}):
 *
 * - `LEGACY_BAD_TYPE`: a frame's type id is not 3 (timestamps) or 4 (messageexp).
 * - `LEGACY_BAD_LENGTH`: a frame's `len` is negative, above the limit, or wrong for its type.
 * - `LEGACY_BAD_STRING`: a messageexp string's length does not match `len` (longer than the
 *   payload), is outside 1..65 (strict), or is not valid UTF-8.
 * - `LEGACY_TRAILING_BYTES`: the payload is longer than what it encodes.
 * - `LEGACY_TRUNCATED`: the stream ended inside a frame.
 * - `LEGACY_UNEXPECTED_FRAME`: a frame that this side never expects (e.g. a reply nobody asked for).
 * - `ERR_INVALID_ARG_VALUE`: a value given to an encoder does not fit the wire.
 * @packageDocumentation
 */
import { VsockRpcError, type VsockRpcErrorOptions } from '@vsock-rpc/errors';

/** Every code a {@link LegacyWireError} can carry (a fixed set: usable as metric label values). */
export const LEGACY_ERROR_CODES = [
  'LEGACY_BAD_TYPE',
  'LEGACY_BAD_LENGTH',
  'LEGACY_BAD_STRING',
  'LEGACY_TRAILING_BYTES',
  'LEGACY_TRUNCATED',
  'LEGACY_UNEXPECTED_FRAME',
  'ERR_INVALID_ARG_VALUE',
] as const;

/** One of {@link LEGACY_ERROR_CODES}. */
export type LegacyErrorCode = (typeof LEGACY_ERROR_CODES)[number];

/** A legacy frame or value that breaks the wire's rules (see the codes above). */
export class LegacyWireError extends VsockRpcError {
  declare readonly code: LegacyErrorCode;
  constructor(code: LegacyErrorCode, message: string, options?: VsockRpcErrorOptions) {
    super(code, message, options);
  }
}

/**
 * `@vsock-rpc/legacy`: the wire of the C++ envtest this project ports, so that our server and
 * client can talk to its binaries. Bytes only: frames, the two payloads in cereal's binary
 * encoding, a bounded streaming reader, and the clock exchange's arithmetic. The byte layout is
 * in this package's README.
 *
 * - {@link encodeMessageexpFrame}, {@link encodeClockRequestFrame}, {@link encodeClockReplyFrame},
 *   {@link encodeLegacyFrame}: frames ready for one write, every byte initialised.
 * - {@link LegacyFrameReader}: frames from a byte stream, strictly validated
 *   ({@link LegacyWireError} with a stable code).
 * - {@link legacyClockOffset}, {@link legacyClockDue}, {@link answerClockRequest}: both sides of
 *   the clock exchange.
 *
 * @packageDocumentation
 */
export * from './constants.js';
export { LegacyWireError, LEGACY_ERROR_CODES, type LegacyErrorCode } from './errors.js';
export {
  encodeMessageexp,
  decodeMessageexp,
  encodeTimestamps,
  decodeTimestamps,
  encodeLegacyFrame,
  encodeMessageexpFrame,
  encodeClockRequestFrame,
  encodeClockReplyFrame,
  type LegacyMessageexp,
  type LegacyTimestamps,
  type LegacyMessage,
  type LegacyStringOptions,
} from './codec.js';
export { LegacyFrameReader, decodeLegacyFrame, type LegacyFrameReaderOptions } from './frame-reader.js';
export { legacyClockOffset, legacyClockErrorBound, legacyClockDue, toLegacyServerTime, answerClockRequest, type LegacyClockSample } from './clock.js';

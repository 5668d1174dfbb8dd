/**
 * The numbers of the legacy wire (the C++ envtest's framing and registry). See the package
 * README for the byte layout.
 * @packageDocumentation
 */

/** Size of every frame header: int32 type, int32 len, 20 inline bytes. */
export const LEGACY_HEADER_SIZE = 28;
/** Payloads up to this many bytes travel inside the header (inline); longer ones follow it. */
export const LEGACY_INLINE_LIMIT = 20;
/** Type id of `timestamps` (the clock request and its reply). */
export const LEGACY_TYPE_TIMESTAMPS = 3;
/** Type id of `messageexp` (one trace event). */
export const LEGACY_TYPE_MESSAGEEXP = 4;
/** The only type ids this package accepts or sends. */
export type LegacyType = typeof LEGACY_TYPE_TIMESTAMPS | typeof LEGACY_TYPE_MESSAGEEXP;
/** Payload size of `timestamps`: two int64. */
export const LEGACY_TIMESTAMPS_LEN = 16;
/** Fixed part of a `messageexp` payload: int64 timestamp + uint64 string length. */
export const LEGACY_MESSAGEEXP_FIXED = 16;
/** Longest string the original sends (its random texts are 1..65 letters). */
export const LEGACY_MAX_TEXT = 65;
/** Largest `len` in strict mode: a messageexp with a 65-byte string. */
export const LEGACY_MAX_LEN = LEGACY_MESSAGEEXP_FIXED + LEGACY_MAX_TEXT;
/** Largest `len` a relaxed reader may be configured with (a string of 64 KiB). */
export const LEGACY_RELAXED_MAX_LEN = LEGACY_MESSAGEEXP_FIXED + 65_536;
/**
 * The vsock port the original really uses: its source says `htons(11451)`, which on a
 * little-endian machine stores 0xBB2C = 47916 in `svm_port`.
 */
export const LEGACY_PORT = 47916;
/** How often the original client runs a clock exchange (at most once per this many ns). */
export const LEGACY_CLOCK_INTERVAL_NS = 60_000_000_000n;

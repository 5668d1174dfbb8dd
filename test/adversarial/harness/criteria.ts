/** The common pass criteria of every attack (issue 11), in one place so no attack softens them. */

/** Peak server RSS (VmHWM), MiB. */
export const MAX_PEAK_RSS_MIB = 512;
/** Server RSS growth across one attack (VmRSS after settling minus before), MiB. */
export const MAX_RSS_GROWTH_MIB = 64;
/**
 * A fresh good peer's TCP connect + HELLO exchange + PING/PONG, ms. A healthy server does this
 * in a few ms; 3 s is generous enough for a loaded 2-core CI machine running the attack itself.
 */
export const MAX_CONNECT_MS = 3000;
/** The codes PROTOCOL.md §6 names for GOAWAY. */
export const NAMED_GOAWAY_CODES = new Set([
  'HELLO_MISMATCH',
  'HANDSHAKE_TIMEOUT',
  'PROTOCOL_ERROR',
  'FRAME_TOO_LARGE',
  'FRAME_TIMEOUT',
  'IDLE_TIMEOUT',
  'RESOURCE_EXHAUSTED',
  'SHUTDOWN',
  'CONNECTION_LIMIT',
  'CID_NOT_ALLOWED',
]);

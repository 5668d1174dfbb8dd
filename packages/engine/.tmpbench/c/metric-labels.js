/**
 * The only label values the engine's metrics ever carry (PROTOCOL.md §6 for the codes): fixed
 * sets, never text a peer chose, so no peer can grow the number of series (ARCHITECTURE.md,
 * "A guest is hostile").
 */
import { constants as osConstants } from 'node:os';
import { KIND_NAMES, Kind } from '@vsock-rpc/wire';
/**
 * Error codes that are label values of their own: those of PROTOCOL.md §6 (on the wire and the
 * receiver's names for failures), the engine's and the wire package's own codes, and socket
 * errno names (from node:os, a fixed set of this platform). Anything else counts as `OTHER`.
 */
export const KNOWN_ERROR_CODES = new Set([
    // PROTOCOL.md §6: ERROR codes, GOAWAY codes, and the receiver's names of failures.
    'UNKNOWN_METHOD',
    'INVALID_ARGUMENT',
    'DEADLINE_EXCEEDED',
    'CANCELLED',
    'UNAVAILABLE',
    'RESOURCE_EXHAUSTED',
    'INTERNAL',
    'HELLO_MISMATCH',
    'HANDSHAKE_TIMEOUT',
    'PROTOCOL_ERROR',
    'FRAME_TOO_LARGE',
    'FRAME_TIMEOUT',
    'IDLE_TIMEOUT',
    'SHUTDOWN',
    'CONNECTION_LIMIT',
    'CID_NOT_ALLOWED',
    // PROTOCOL.md §11 (streams): an opener's stream to a peer without the feature, and the
    // receiver's names of the stream violations it closes a connection for (GOAWAY PROTOCOL_ERROR).
    'UNIMPLEMENTED',
    'FLOW_CONTROL',
    'STREAM_STATE',
    // A peer over its byte or CPU budget was slowed (reading paused) before any RESOURCE_EXHAUSTED.
    'THROTTLED',
    'BAD_KIND',
    'BAD_FLAGS',
    'UNKNOWN_TYPE',
    'TRUNCATED_FRAME',
    'DECODE_ERROR',
    'SCHEMA_VIOLATION',
    // The engine's and the wire package's own codes.
    'OK',
    'ERROR',
    'OTHER',
    'INVALID_RESPONSE',
    'HANDLER_ERROR',
    'QUEUE_FULL',
    'METRICS_CONFLICT',
    'UNKNOWN_NAME',
    'REGISTRY_DEFINITION',
    // Node's codes for a socket that went away under a write or read.
    'ABORT_ERR',
    'ERR_STREAM_DESTROYED',
    'ERR_STREAM_WRITE_AFTER_END',
    'ERR_STREAM_PREMATURE_CLOSE',
    'ERR_SOCKET_CLOSED',
    'EHYBRIDHANDSHAKE',
    ...Object.keys(osConstants.errno),
]);
/** The error codes published at 0 before they first happen: those of PROTOCOL.md §6 (the block above up to SCHEMA_VIOLATION). */
export const ZERO_ERRORS = Object.fromEntries([...KNOWN_ERROR_CODES].slice(0, [...KNOWN_ERROR_CODES].indexOf('SCHEMA_VIOLATION') + 1).map((c) => [c, 0]));
/** The label value of TYPE_ ids that are neither control types nor declared in the registry. */
export const UNKNOWN_LABEL = 'unknown';
/** The label value of every error code outside the allowlist. */
export const OTHER_CODE = 'OTHER';
/** Why outbound events were dropped: the only label values of `dropped_events_total`. */
export const DROP_REASONS = ['oldest', 'newest', 'rejected', 'offline', 'oversized'];
/** What an evicted connection was: the only label values of `connections_evicted_total`. */
export const EVICTION_REASONS = ['handshake', 'idle'];
/** Every TYPE_ id (u16). */
export const TYPES = 0x10000;
/** The kinds of PROTOCOL.md §2 (CONTROL … ERROR, and the stream kinds OPEN … RESET of §11): one row each. */
export const KINDS = Kind.RESET + 1;
/** Rows of the frame counters: one per kind of {@link KINDS}, and the last (`unknown`) for any other byte. */
export const KIND_ROWS = KINDS + 1;
/** The `kind` label of each row: the kind's name ('control' … 'reset'), then `unknown`. */
export const KIND_LABELS = [...Array.from({ length: KINDS }, (_, k) => KIND_NAMES[k] ?? UNKNOWN_LABEL), UNKNOWN_LABEL];
//# sourceMappingURL=metric-labels.js.map
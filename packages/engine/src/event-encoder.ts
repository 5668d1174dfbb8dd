/**
 * The one way an event becomes a queued payload, whether a connection is open or not: encoded
 * with the registry's codec (a schema violation throws at the call site) and checked against the
 * peer's `maxFrame`, the live one or, offline, the last one known. An event that could never be
 * sent fails here, at `send`, instead of closing a later connection with FRAME_TOO_LARGE.
 *
 * A top-level binary property of BULK_THRESHOLD bytes or more is not copied (PROTOCOL.md §12):
 * the event is queued as a view of the caller's buffer (bulk-events.ts), so the caller must not
 * modify that buffer until the event is written (until `flush()` resolves).
 */
import { BULK_THRESHOLD, FrameTooLargeError, type Codec } from '@vsock-rpc/wire';
import { bulkLength, queueBulk } from './bulk-events.js';

/** An event ready for an {@link EventQueue}. */
export interface EncodedEvent {
  readonly id: number;
  readonly payload: Buffer;
}

/**
 * Encodes event `type` for a peer that accepts payloads of at most `peerMaxFrame` bytes.
 * @throws SchemaViolationError if the value breaks its schema; FrameTooLargeError if it is too large for the peer.
 */
export function encodeEvent(codec: Codec, type: string, value: unknown, peerMaxFrame: number): EncodedEvent {
  const entry = codec.registry.message(type);
  const bulk = codec.encodeEntryBulk(entry, value, BULK_THRESHOLD);
  if (bulk) {
    const length = bulkLength(bulk);
    if (length > peerMaxFrame) throw new FrameTooLargeError(length, peerMaxFrame);
    return { id: entry.id, payload: queueBulk(codec, bulk) };
  }
  const payload = codec.encodeEntry(entry, value);
  if (payload.length > peerMaxFrame) throw new FrameTooLargeError(payload.length, peerMaxFrame);
  return { id: entry.id, payload };
}

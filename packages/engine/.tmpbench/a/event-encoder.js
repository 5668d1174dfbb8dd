/**
 * The one way an event becomes a queued payload, whether a connection is open or not: encoded
 * with the registry's codec (a schema violation throws at the call site) and checked against the
 * peer's `maxFrame`, the live one or, offline, the last one known. An event that could never be
 * sent fails here, at `send`, instead of closing a later connection with FRAME_TOO_LARGE.
 */
import { FrameTooLargeError } from '@vsock-rpc/wire';
/**
 * Encodes event `type` for a peer that accepts payloads of at most `peerMaxFrame` bytes.
 * @throws SchemaViolationError if the value breaks its schema; FrameTooLargeError if it is too large for the peer.
 */
export function encodeEvent(codec, type, value, peerMaxFrame) {
    const entry = codec.registry.message(type);
    const payload = codec.encodeEntry(entry, value);
    if (payload.length > peerMaxFrame)
        throw new FrameTooLargeError(payload.length, peerMaxFrame);
    return { id: entry.id, payload };
}
//# sourceMappingURL=event-encoder.js.map
import { VsockRpcError } from '@vsock-rpc/wire';
/**
 * The failure of one call, as the caller sees it. `code` is one of PROTOCOL.md §6 (e.g.
 * 'UNKNOWN_METHOD', 'DEADLINE_EXCEEDED', 'CANCELLED', 'UNAVAILABLE') or an application code a
 * handler chose by throwing `new RpcError('NOT_FOUND', …)`.
 */
export class RpcError extends VsockRpcError {
    /** Structured detail sent by the handler, if any. */
    details;
    constructor(code, message, details, options) {
        super(code, message, options);
        this.details = details;
    }
}
/** HELLO did not match: another protocol version or another registry. `differences` says what. */
export class HelloMismatchError extends VsockRpcError {
    differences;
    constructor(message, differences) {
        super('HELLO_MISMATCH', message);
        this.differences = differences;
    }
}
/** The connection closed (or was never open); calls in flight fail with this. */
export class ConnectionClosedError extends VsockRpcError {
    constructor(message = 'connection closed: the call may or may not have run on the peer; retry if it is idempotent') {
        super('UNAVAILABLE', message);
    }
}
/** The peer refused the connection or closed it with GOAWAY; `reason` is its code. */
export class GoawayError extends VsockRpcError {
    reason;
    constructor(reason, peerMessage) {
        super(reason, `peer closed the connection (${reason}): ${peerMessage}`);
        this.reason = reason;
    }
}
/** The outbound event queue is full and its policy is 'error'. */
export class QueueFullError extends VsockRpcError {
    constructor(limit) {
        super('QUEUE_FULL', `outbound event queue is full (${limit}): the peer reads slower than you send; await send() with policy 'block', or choose a drop policy`);
    }
}
//# sourceMappingURL=errors.js.map
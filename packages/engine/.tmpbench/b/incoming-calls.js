/**
 * The peer's calls to us: refusing what we cannot run (unknown method, shutting down, too many
 * running), decoding the request, running the handler (a synchronous one is answered in the
 * same tick), its deadline and CANCEL, and sending the outcome. Running calls live in one
 * {@link PendingTable}. Replies the peer does not read count against the concurrency limit too:
 * past it, reading pauses ('replies') until the writer has drained half of them.
 */
import { Kind, ProtocolError, SchemaViolationError, encodeErrorPayload } from '@vsock-rpc/wire';
import { afterPeerGoaway } from './control-lane.js';
import { PendingTable } from './deadline-table.js';
import { RpcError } from './errors.js';
function abortCall(call, err) {
    call.abort(err);
}
/** A running call's deadline passed: its handler is told; the call stays until it returns. */
function deadlinePassed(_id, call) {
    call.abort(new RpcError('DEADLINE_EXCEEDED', 'deadline passed'));
}
/** The peer's calls running on one connection. */
export class IncomingCalls {
    #core;
    #codec;
    #writer;
    #router;
    #running = new PendingTable(abortCall);
    #maxCalls;
    constructor(core, router) {
        this.#core = core;
        this.#codec = core.codec;
        this.#writer = core.writer;
        this.#router = router;
        this.#maxCalls = core.options.maxConcurrentCalls ?? 1024;
        core.writer.onFlushed = (pendingCalls) => {
            if (pendingCalls < this.#maxCalls / 2)
                core.resume('replies');
        };
    }
    /** Handlers running. */
    get size() {
        return this.#running.size;
    }
    /** A REQUEST from the peer. @throws ProtocolError after the peer's GOAWAY, or for call id 0. */
    onRequest(f) {
        const core = this.#core;
        if (core.goawayReceived)
            throw afterPeerGoaway('a REQUEST', f.type);
        const id = f.id;
        // 0 is never a call id (PROTOCOL.md §2): a peer that sends it has no way to match the answer.
        if (id === 0)
            throw new ProtocolError('PROTOCOL_ERROR', `a REQUEST for method id ${f.type} with call id 0: call ids are 1 … 2^32−1 (PROTOCOL.md §2)`);
        // Replies the peer has not read yet count against the limit too, refusals (UNKNOWN_METHOD,
        // UNAVAILABLE, RESOURCE_EXHAUSTED) included: a peer that sends requests but never reads the
        // answers would otherwise grow the call lane without bound. Past the limit, stop reading
        // from it until the writer has drained half of them.
        if (this.#running.size + this.#writer.pendingCalls >= this.#maxCalls)
            core.pause('replies');
        const route = this.#router.methodHandler(f.type);
        if (!route) {
            const known = this.#codec.registry.methodById(f.type);
            this.#sendError(f.type, id, 'UNKNOWN_METHOD', known
                ? `no handler is registered for method '${known.name}' (id ${f.type}) on ${core.options.name ?? 'this peer'}`
                : `method id ${f.type} is not in this peer's registry`);
            return;
        }
        if (core.state === 'closing') {
            this.#sendError(f.type, id, 'UNAVAILABLE', 'peer is shutting down: retry on another connection');
            return;
        }
        const running = this.#running;
        if (running.size >= this.#maxCalls) {
            this.#sendError(f.type, id, 'RESOURCE_EXHAUSTED', `${running.size} calls already running on this connection: retry later`);
            return;
        }
        const { entry, handler } = route;
        let request;
        try {
            request = this.#codec.decodeMethodAt(entry, 'request', f.source, f.start, f.end, f.owned);
        }
        catch (err) {
            const e = err;
            core.metrics?.error(e.code ?? 'DECODE_ERROR');
            this.#sendError(f.type, id, 'INVALID_ARGUMENT', e.message, e instanceof SchemaViolationError ? { path: e.path } : undefined);
            return;
        }
        const call = new RunningCall(core.peer, f.deadlineMs !== undefined ? performance.now() + f.deadlineMs : undefined, entry.name, id);
        running.add(id, call, f.deadlineMs, deadlinePassed);
        let result;
        try {
            result = handler(request, call);
        }
        catch (err) {
            this.#finish(call, f.type, entry, undefined, err, true);
            return;
        }
        // A synchronous handler is answered in this same tick: no promise, no extra microtask.
        if (result === null || typeof result !== 'object' || typeof result.then !== 'function') {
            this.#finish(call, f.type, entry, result, undefined, false);
            return;
        }
        result.then((response) => this.#finish(call, f.type, entry, response, undefined, false), (err) => this.#finish(call, f.type, entry, undefined, err, true));
    }
    /** CANCEL from the caller: the handler is told; nothing is sent back. */
    cancel(id) {
        const c = this.#running.take(id);
        if (c)
            c.abort(new RpcError('CANCELLED', 'the caller cancelled'));
    }
    /** Aborts every running handler with `err` (teardown): their outcomes are not sent. */
    abortAll(err) {
        this.#running.rejectAll(err);
    }
    /** Sends the outcome of a handler, unless the call was cancelled or the connection closed. */
    #finish(call, type, entry, response, err, failed) {
        const id = call.callId;
        if (this.#running.get(id) !== call) {
            clearTimeout(call.timer);
            return;
        }
        this.#running.remove(id, call);
        if (call.aborted) {
            // After CANCEL the caller is gone: nothing to send. After the deadline, say so (it may
            // still be listening if its own timer is longer).
            const reason = call.abortReason;
            if (reason instanceof RpcError && reason.code === 'DEADLINE_EXCEEDED')
                this.#sendError(type, id, 'DEADLINE_EXCEEDED', 'the deadline passed before the handler finished');
            return;
        }
        if (failed) {
            if (err instanceof RpcError)
                this.#sendError(type, id, err.code, err.message, err.details);
            else
                this.#sendError(type, id, 'INTERNAL', `handler of '${entry.name}' failed: ${err?.message ?? String(err)}`);
            return;
        }
        let payload;
        try {
            payload = this.#codec.encodeMethod(entry, 'response', response);
        }
        catch (e) {
            this.#sendError(type, id, 'INTERNAL', `handler of '${entry.name}' returned an invalid response: ${e.message}`);
            return;
        }
        const peerMaxFrame = this.#core.peerMaxFrame;
        if (payload.length > peerMaxFrame) {
            this.#sendError(type, id, 'INTERNAL', `response of '${entry.name}' is ${payload.length} bytes, above the caller's maximum frame ${peerMaxFrame}`);
            return;
        }
        this.#writer.pushCall(Kind.RESPONSE, type, id, payload);
    }
    #sendError(type, id, code, message, details) {
        this.#writer.pushCall(Kind.ERROR, type, id, encodeErrorPayload(details === undefined ? { code, message } : { code, message, details }));
    }
}
/**
 * A call from the peer while its handler runs: the handler's {@link CallContext}. Its
 * AbortController is made only when the handler reads `signal` (creating one per call cost
 * several µs of a ~20 µs round trip); an abort before that is replayed onto it.
 */
export class RunningCall {
    deadline;
    method;
    callId;
    name;
    address;
    transport;
    cid;
    connectionId;
    timer;
    aborted = false;
    abortReason;
    #controller;
    constructor(peer, deadline, method, callId) {
        this.deadline = deadline;
        this.method = method;
        this.callId = callId;
        this.name = peer.name;
        this.address = peer.address;
        this.transport = peer.transport;
        this.cid = peer.cid;
        this.connectionId = peer.connectionId;
    }
    get signal() {
        if (!this.#controller) {
            this.#controller = new AbortController();
            if (this.aborted)
                this.#controller.abort(this.abortReason);
        }
        return this.#controller.signal;
    }
    abort(reason) {
        if (this.aborted)
            return;
        this.aborted = true;
        this.abortReason = reason;
        this.#controller?.abort(reason);
    }
}
//# sourceMappingURL=incoming-calls.js.map
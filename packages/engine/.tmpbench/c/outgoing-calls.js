/**
 * Our calls to the peer: starting one (limits, encoding, the deadline that travels with the
 * REQUEST), matching its RESPONSE or ERROR, and abandoning it on timeout or abort (taking back a
 * REQUEST not yet written, or sending CANCEL, PROTOCOL.md §4). Calls in flight live in one
 * {@link PendingTable}; teardown rejects them all.
 */
import { ControlType, FrameTooLargeError, Kind, decodeErrorPayload } from '@vsock-rpc/wire';
import { PendingTable } from './deadline-table.js';
import { ConnectionClosedError, RpcError } from './errors.js';
function rejectCall(call, err) {
    call.cleanup?.();
    call.reject(err);
}
/** The calls this side has in flight on one connection. */
export class OutgoingCalls {
    #core;
    #codec;
    #writer;
    #pending = new PendingTable(rejectCall);
    #maxPending;
    #nextCallId = 1;
    constructor(core) {
        this.#core = core;
        this.#codec = core.codec;
        this.#writer = core.writer;
        this.#maxPending = core.options.maxPendingCalls ?? 65536;
    }
    /** Calls in flight. */
    get size() {
        return this.#pending.size;
    }
    /** Calls method `name`; resolves with the validated response. */
    call(name, request, options) {
        const core = this.#core;
        const entry = this.#codec.registry.method(name);
        if (core.state !== 'open') {
            return Promise.reject(core.goawayReceived ?? core.closeError ?? new ConnectionClosedError(`connection is ${core.state}: call '${name}' was not sent`));
        }
        if (core.goawayReceived)
            return Promise.reject(core.goawayReceived);
        if (this.#pending.size >= this.#maxPending) {
            return Promise.reject(new RpcError('RESOURCE_EXHAUSTED', `${this.#pending.size} calls already in flight on this connection: await some before starting more`));
        }
        if (options.signal?.aborted)
            return Promise.reject(new RpcError('CANCELLED', `call '${name}' cancelled before it was sent`));
        let payload;
        try {
            payload = this.#codec.encodeMethod(entry, 'request', request);
        }
        catch (err) {
            return Promise.reject(err);
        }
        if (payload.length + 4 > core.peerMaxFrame)
            return Promise.reject(new FrameTooLargeError(payload.length, core.peerMaxFrame));
        const id = this.#allocCallId();
        return new Promise((resolve, reject) => {
            const call = { resolve, reject, method: name, entryId: entry.id, startMs: performance.now(), timer: undefined, cleanup: undefined };
            this.#pending.add(id, call, options.timeoutMs, this.#onTimeout);
            const signal = options.signal;
            if (signal) {
                const onAbort = () => this.#abandon(id, new RpcError('CANCELLED', `call '${name}' cancelled`, undefined, { cause: signal.reason }));
                signal.addEventListener('abort', onAbort, { once: true });
                call.cleanup = () => signal.removeEventListener('abort', onAbort);
            }
            this.#writer.pushCall(Kind.REQUEST, entry.id, id, payload, options.timeoutMs);
        });
    }
    /** A RESPONSE or ERROR from the peer: settles the call it answers. */
    onReply(f) {
        const call = this.#pending.get(f.id);
        if (!call || call.entryId !== f.type)
            return; // timed out or cancelled: ignore (PROTOCOL.md §6)
        this.#pending.remove(f.id, call);
        call.cleanup?.();
        const codec = this.#codec;
        const metrics = this.#core.metrics;
        const entry = codec.registry.methodById(f.type);
        const seconds = (performance.now() - call.startMs) / 1000;
        if (f.kind === Kind.RESPONSE) {
            let value;
            try {
                value = codec.decodeMethodAt(entry, 'response', f.source, f.start, f.end, f.owned);
            }
            catch (err) {
                metrics?.callDone(call.method, seconds, 'INVALID_RESPONSE');
                call.reject(err);
                return;
            }
            metrics?.callDone(call.method, seconds, 'OK');
            call.resolve(value);
            return;
        }
        let payload;
        try {
            payload = decodeErrorPayload(f.payload);
        }
        catch (err) {
            payload = { code: 'INTERNAL', message: `undecodable error payload: ${err.message}` };
        }
        metrics?.callDone(call.method, seconds, payload.code);
        call.reject(new RpcError(payload.code, `${call.method}: ${payload.message}`, payload.details));
    }
    /** Rejects every call in flight with `err` (teardown). */
    rejectAll(err) {
        this.#pending.rejectAll(err);
    }
    /** A call's deadline passed: one function for every call's timer, no closure per call. */
    #onTimeout = (id, call, timeoutMs) => {
        this.#abandon(id, new RpcError('DEADLINE_EXCEEDED', `call '${call.method}' got no answer within ${timeoutMs} ms`));
    };
    #abandon(id, err) {
        const call = this.#pending.take(id);
        if (!call)
            return;
        call.cleanup?.();
        this.#core.metrics?.callDone(call.method, (performance.now() - call.startMs) / 1000, err.code ?? 'ERROR');
        // A REQUEST not yet written is simply taken back; a written one is cancelled (PROTOCOL.md §4).
        const state = this.#core.state;
        if (!this.#writer.unqueueRequest(id) && (state === 'open' || state === 'closing')) {
            this.#writer.writeUrgent(Kind.CONTROL, ControlType.CANCEL, id, Buffer.alloc(0));
        }
        call.reject(err);
    }
    #allocCallId() {
        let id = this.#nextCallId;
        while (id === 0 || this.#pending.has(id))
            id = (id + 1) >>> 0;
        this.#nextCallId = (id + 1) >>> 0;
        return id;
    }
}
//# sourceMappingURL=outgoing-calls.js.map
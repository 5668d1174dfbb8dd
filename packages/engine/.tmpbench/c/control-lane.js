/**
 * The control lane once the handshake is done (PROTOCOL.md §4): PING/PONG (keepalive and the
 * round-trip time), CLOCK_REQUEST/CLOCK_RESPONSE (we answer the peer's, and ask our own for
 * clock sync), CANCEL (routed to the running call), the GOAWAY payload, and the protocol error
 * of an EVENT, REQUEST or OPEN after the peer's own GOAWAY (each part checks its own kind). Our
 * PINGs and clock requests share one implementation (`#ask`): send a control frame on the urgent
 * lane with a fresh nonce, and wait in a {@link PendingTable} for the answer that carries it back.
 */
import { ControlType, Kind, ProtocolError, decodeClockRequest, decodeClockResponse, decodeErrorPayload, encodeClockResponse, stampClockResponse, } from '@vsock-rpc/wire';
import { PendingTable } from './deadline-table.js';
import { ConnectionClosedError, RpcError } from './errors.js';
import { ProtocolErrorBeforeHello } from './handshake.js';
function rejectWaiter(w, err) {
    w.reject(err);
}
/** PING, CLOCK and CANCEL of one connection. */
export class ControlLane {
    #core;
    #incoming;
    #pings = new PendingTable(rejectWaiter);
    #clocks = new PendingTable(rejectWaiter);
    #nextNonce = 1;
    #rttNs;
    constructor(core, incoming) {
        this.#core = core;
        this.#incoming = incoming;
    }
    /** The last PING round-trip time in ns. */
    get rttNs() {
        return this.#rttNs;
    }
    /** PINGs waiting for their PONG. */
    get pingsInFlight() {
        return this.#pings.size;
    }
    /** Sends PING and resolves with the round-trip time in ns. */
    ping(timeoutMs) {
        return this.#ask(this.#pings, ControlType.PING, Buffer.alloc(0), undefined, 'PONG', timeoutMs);
    }
    /**
     * One clock exchange on the priority lane (PROTOCOL.md §4): T1 is taken immediately before
     * the write, T2 when the socket chunk holding the answer arrived.
     */
    clockExchange(timeoutMs) {
        return this.#ask(this.#clocks, ControlType.CLOCK_REQUEST, Buffer.alloc(8), this.#stampT1, 'CLOCK_RESPONSE', timeoutMs);
    }
    /** One CONTROL frame other than GOAWAY, once the handshake is done. */
    onFrame(f) {
        switch (f.type) {
            case ControlType.PING:
                this.#core.writer.writeUrgent(Kind.CONTROL, ControlType.PONG, f.id, Buffer.alloc(0));
                return;
            case ControlType.PONG: {
                const p = this.#pings.take(f.id);
                if (!p)
                    return;
                const rtt = (this.#rttNs = process.hrtime.bigint() - p.at);
                this.#core.metrics?.rtt(rtt);
                p.resolve(rtt);
                return;
            }
            case ControlType.CANCEL:
                this.#incoming.cancel(f.id);
                return;
            case ControlType.CLOCK_REQUEST: {
                const t1 = decodeClockRequest(f.payload);
                const response = encodeClockResponse({ t1, t1r: this.#core.chunkAt, t2r: 0n });
                this.#core.writer.writeUrgent(Kind.CONTROL, ControlType.CLOCK_RESPONSE, f.id, response, this.#stampT2r);
                return;
            }
            case ControlType.CLOCK_RESPONSE: {
                const waiter = this.#clocks.take(f.id);
                if (!waiter)
                    return;
                const r = decodeClockResponse(f.payload);
                waiter.resolve({ t1: r.t1, t1r: r.t1r, t2r: r.t2r, t2: this.#core.chunkAt });
                return;
            }
            case ControlType.HELLO:
                throw new ProtocolErrorBeforeHello(f.kind, f.type, 'a second HELLO');
        }
    }
    /** Rejects every PING and clock request waiting for its answer (teardown). */
    rejectAll(err) {
        this.#pings.rejectAll(err);
        this.#clocks.rejectAll(err);
    }
    /** Sends control frame `type` with a fresh nonce; resolves when `table` gets its answer. */
    #ask(table, type, payload, beforeWrite, answer, timeoutMs) {
        const core = this.#core;
        if (core.state !== 'open')
            return Promise.reject(core.closeError ?? new ConnectionClosedError());
        const nonce = this.#nextNonce++ >>> 0;
        return new Promise((resolve, reject) => {
            const waiter = { at: process.hrtime.bigint(), resolve, reject, timer: undefined };
            table.add(nonce, waiter, timeoutMs, (id, w) => {
                table.take(id);
                w.reject(new RpcError('DEADLINE_EXCEEDED', `no ${answer} within ${timeoutMs} ms`));
            });
            core.writer.writeUrgent(Kind.CONTROL, type, nonce, payload, beforeWrite);
        });
    }
    /** Writes T1 into our CLOCK_REQUEST immediately before it goes out. */
    #stampT1 = (payload) => {
        payload.writeBigInt64LE(this.#core.now(), 0);
    };
    /** Writes T2′ into our CLOCK_RESPONSE immediately before it goes out. */
    #stampT2r = (payload) => {
        stampClockResponse(payload, this.#core.now());
    };
}
/**
 * The peer's GOAWAY payload: why it closes (PROTOCOL.md §4, §6).
 * @throws ProtocolError when it does not decode.
 */
export function decodeGoaway(payload) {
    try {
        return decodeErrorPayload(payload);
    }
    catch (err) {
        throw new ProtocolError('PROTOCOL_ERROR', `an undecodable GOAWAY payload (${err.message}): a GOAWAY carries an ErrorPayload (PROTOCOL.md §4, §6)`);
    }
}
/**
 * `what` (an EVENT, a REQUEST, an OPEN) of `type` arrived after the peer's own GOAWAY: a protocol
 * error (PROTOCOL.md §4). The parts that receive those kinds check it first.
 */
export function afterPeerGoaway(what, type) {
    return new ProtocolError('PROTOCOL_ERROR', `${what} (type ${type}) after the peer's own GOAWAY: its sender starts no new calls or streams and sends no new events (PROTOCOL.md §4)`);
}
//# sourceMappingURL=control-lane.js.map
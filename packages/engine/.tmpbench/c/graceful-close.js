/**
 * Graceful close (PROTOCOL.md §4): the order things leave in when we close, the waits between,
 * and ending the socket once what we owe is written. Queued events go first (the sender of a
 * GOAWAY sends no events after it), then GOAWAY SHUTDOWN, then the calls in flight in both
 * directions may finish, then the socket is ended. Also {@link GracefulClose.drained}: waiting
 * until the writer has handed everything to the socket, and {@link GracefulClose.endAfterFailure}:
 * how the socket ends once the connection has failed. The Connection moves the state; this only
 * reads it, and calls `finish` to reach 'closed'.
 */
import { ControlType, Kind, encodeErrorPayload } from '@vsock-rpc/wire';
/** The closing half of one connection. */
export class GracefulClose {
    #core;
    #queue;
    #callsInFlight;
    #finish;
    #drainWaiters = [];
    /** `callsInFlight`: ours and the peer's; `finish`: moves to 'closed' and tears down. */
    constructor(core, queue, callsInFlight, finish) {
        this.#core = core;
        this.#queue = queue;
        this.#callsInFlight = callsInFlight;
        this.#finish = finish;
    }
    /**
     * Lets what is owed go out for at most `timeoutMs`, then ends the socket. `wasOpen`: the
     * Connection just moved from 'open' to 'closing' (not the peer's GOAWAY SHUTDOWN before).
     */
    async close(timeoutMs, wasOpen) {
        const core = this.#core;
        const socket = core.socket;
        const deadline = performance.now() + timeoutMs;
        if (wasOpen) {
            // Events go out BEFORE the GOAWAY: its sender sends no events after it (PROTOCOL.md §4),
            // and a peer that sees one closes with PROTOCOL_ERROR. Half the drain time is for them;
            // what is still queued then stays in the queue (a ClientEngine's queue is kept for the
            // next connection; a server's is dropped and counted at teardown).
            const eventsBy = performance.now() + timeoutMs / 2;
            core.writer.flushNow();
            while (this.#queue.length > 0 && performance.now() < eventsBy && !socket.destroyed && !core.goawayReceived) {
                await new Promise((r) => setTimeout(r, 5));
            }
            core.writer.stopEvents();
            if (core.state === 'closing') {
                core.writer.writeUrgent(Kind.CONTROL, ControlType.GOAWAY, 0, encodeErrorPayload({ code: 'SHUTDOWN', message: 'peer is shutting down' }));
            }
        }
        while (performance.now() < deadline && !socket.destroyed) {
            if (this.#callsInFlight() === 0 && core.writer.pendingCalls === 0)
                break;
            await new Promise((r) => setTimeout(r, 5));
        }
        await this.end(Math.max(100, deadline - performance.now()));
    }
    /** Ends the socket once the writer is drained (and 'closed' is reached), destroying it after `timeoutMs`. */
    async end(timeoutMs) {
        const socket = this.#core.socket;
        if (socket.destroyed)
            return;
        this.#core.writer.flushNow();
        await this.drained();
        if (this.#core.state !== 'closed')
            this.#finish();
        await new Promise((resolve) => {
            const timer = setTimeout(() => {
                socket.destroy();
                resolve();
            }, timeoutMs);
            timer.unref?.();
            socket.once('close', () => {
                clearTimeout(timer);
                resolve();
            });
            socket.end();
        });
    }
    /**
     * Ends the socket of a connection that has just failed: at once, or (`afterGoaway`) once the
     * GOAWAY just written has gone out, destroying it after a second at most.
     */
    endAfterFailure(afterGoaway) {
        const socket = this.#core.socket;
        if (afterGoaway) {
            // Let the GOAWAY out, then close.
            socket.end();
            // Cleared when the socket closes: a pending timer would keep this Connection (and its
            // buffers) alive for a second after every rejected peer, and a storm of them adds up.
            const timer = setTimeout(() => socket.destroy(), 1000);
            timer.unref?.();
            socket.once('close', () => clearTimeout(timer));
        }
        else {
            socket.destroy();
        }
    }
    /** Resolves when every queued event has been handed to the socket (or the connection closed). */
    drained() {
        if (this.#core.writer.idle)
            return Promise.resolve();
        return new Promise((resolve) => {
            this.#drainWaiters.push(resolve);
            this.#pollDrain();
        });
    }
    /** Resolves every drained() (teardown). */
    releaseWaiters() {
        for (const r of this.#drainWaiters.splice(0))
            r();
    }
    #pollDrain() {
        if (this.#drainWaiters.length === 0)
            return;
        if (this.#core.writer.idle || this.#core.socket.destroyed) {
            this.releaseWaiters();
            return;
        }
        setTimeout(() => this.#pollDrain(), 2).unref?.();
    }
}
//# sourceMappingURL=graceful-close.js.map
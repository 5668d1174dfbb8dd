import { FrameEncoder, Kind, encodeFrame } from '@vsock-rpc/wire';
/**
 * Moves frames from the connection's lanes onto the socket, in batches.
 *
 * Three lanes, in priority order:
 * 1. urgent (PONG, CLOCK_*, PING, CANCEL, GOAWAY): written at once, ahead of anything queued.
 *    This is the clock's priority lane: because the writer keeps the socket's own buffer below
 *    `socketHighWater` and holds the rest in its queues, a clock frame waits for at most that
 *    many bytes, never for the whole backlog of events. (A second connection was the
 *    alternative; it would double the handshake, the reconnect logic and the peer bookkeeping,
 *    and on vsock its packets share the same virtqueue anyway.)
 * 2. calls (REQUEST, RESPONSE, ERROR): bounded elsewhere by the in-flight call limits.
 * 3. events: the bounded {@link EventQueue} with its full-queue policy.
 *
 * Calls (lane 2) are flushed at the end of the tick (process.nextTick), events (lane 3) on
 * `setImmediate`: a round trip does not wait a whole loop turn, and every `send` of one tick shares one write.
 */
export class FrameWriter {
    #socket;
    #encoder;
    #queue;
    #calls = [];
    #highWater;
    #batchBytes;
    #scheduled = false;
    #tickScheduled = false;
    #waitingDrain = false;
    #closed = false;
    // After a GOAWAY, in either direction, no new event may leave (PROTOCOL.md §4): the event lane
    // stops and what is queued stays in the queue (a ClientEngine's queue outlives the connection).
    #eventsStopped = false;
    #peerMaxFrame = Number.MAX_SAFE_INTEGER;
    // Only HELLO (and GOAWAY) may leave before the peer's HELLO is accepted (PROTOCOL.md §5).
    #open = false;
    /** Called after each write with frames and bytes per TYPE_ id (for metrics). */
    onWritten;
    /** Called after each flush with the frames still waiting in the call lane. */
    onFlushed;
    /** Frames and bytes written so far. */
    framesOut = 0;
    bytesOut = 0;
    constructor(socket, queue, options = {}) {
        this.#socket = socket;
        this.#queue = queue;
        this.#encoder = new FrameEncoder({ inlineLimit: options.inlineLimit });
        this.#highWater = options.socketHighWater ?? 128 * 1024;
        this.#batchBytes = options.batchBytes ?? 64 * 1024;
        queue.onReadable = () => this.schedule();
        socket.on('drain', () => {
            this.#waitingDrain = false;
            this.schedule();
        });
    }
    /** Nothing left that this writer will still write: no calls queued, and no events (or the event lane stopped). */
    get idle() {
        return this.#calls.length === 0 && (this.#eventsStopped || this.#queue.length === 0);
    }
    /** Frames waiting in the call lane. */
    get pendingCalls() {
        return this.#calls.length;
    }
    /**
     * Writes one frame now, ahead of every queued frame. `beforeWrite` runs immediately before
     * the write call (the clock responder stamps T2′ there).
     */
    writeUrgent(kind, type, id, payload, beforeWrite) {
        if (this.#closed)
            return;
        const frame = encodeFrame(kind, type, id, payload);
        if (beforeWrite) {
            beforeWrite(payload);
            frame.set(payload, 12);
        }
        this.#socket.write(frame);
        this.framesOut++;
        this.bytesOut += frame.length;
        this.onWritten?.(type, kind, frame.length);
    }
    /**
     * Opens lanes 2 and 3: called once the handshake is done, with the peer's maxFrame. Events
     * queued earlier (a ClientEngine's queue outlives a connection) may be larger than this peer
     * takes: those are dropped and counted ('oversized') instead of closing the connection.
     */
    open(peerMaxFrame = Number.MAX_SAFE_INTEGER) {
        this.#peerMaxFrame = peerMaxFrame;
        this.#open = true;
        this.schedule();
    }
    /** Queues a REQUEST, RESPONSE or ERROR frame. */
    pushCall(kind, type, id, payload, deadlineMs) {
        if (this.#closed)
            return;
        this.#calls.push({ kind, type, id, payload, deadlineMs });
        this.#scheduleCalls();
    }
    /**
     * Removes a REQUEST still waiting in the call lane (not yet written); true if it was there.
     * A call abandoned that early must not send CANCEL: CANCEL goes on the urgent lane and would
     * overtake its own REQUEST, leaving the peer's handler running for a call nobody waits for.
     */
    unqueueRequest(id) {
        const calls = this.#calls;
        for (let i = 0; i < calls.length; i++) {
            const f = calls[i];
            if (f.kind === Kind.REQUEST && f.id === id) {
                calls.splice(i, 1);
                return true;
            }
        }
        return false;
    }
    /**
     * Arranges a flush on the next turn of the event loop: events sent in one tick share a write.
     */
    schedule() {
        if (this.#scheduled || this.#waitingDrain || this.#closed || !this.#open)
            return;
        this.#scheduled = true;
        setImmediate(this.#flushImmediate);
    }
    /**
     * Calls flush sooner, at the end of the current tick (process.nextTick): a round trip must not
     * wait a whole event-loop turn on each side (it cost ~2× the raw ping-pong's latency), and
     * calls made in one synchronous run still share one write.
     */
    #scheduleCalls() {
        if (this.#tickScheduled || this.#waitingDrain || this.#closed || !this.#open)
            return;
        this.#tickScheduled = true;
        process.nextTick(this.#flushTick);
    }
    #flushImmediate = () => {
        this.#scheduled = false;
        this.#flush();
    };
    #flushTick = () => {
        this.#tickScheduled = false;
        this.#flush();
    };
    /** Stops the event lane for good (GOAWAY sent or received); calls and urgent frames go on. */
    stopEvents() {
        this.#eventsStopped = true;
    }
    /** Stops writing; queued frames are left where they are. */
    close() {
        this.#closed = true;
    }
    /** Writes whatever is queued now, synchronously, as far as the socket takes it. */
    flushNow() {
        this.#flush();
    }
    #flush = () => {
        const socket = this.#socket;
        if (this.#closed || !this.#open || socket.destroyed || !socket.writable)
            return;
        const enc = this.#encoder;
        const queue = this.#queue;
        const calls = this.#calls;
        // A few batches per turn, then yield so that reads and timers get their turn too.
        for (let round = 0; round < 8 && socket.writableLength < this.#highWater; round++) {
            let callIdx = 0;
            while (callIdx < calls.length && enc.pendingBytes < this.#batchBytes) {
                const f = calls[callIdx++];
                enc.push(f.kind, f.type, f.id, f.payload, f.deadlineMs);
                this.onWritten?.(f.type, f.kind, 12 + f.payload.length);
            }
            if (callIdx > 0)
                calls.splice(0, callIdx);
            const onWritten = this.onWritten;
            while (!this.#eventsStopped && queue.length > 0 && enc.pendingBytes < this.#batchBytes) {
                const type = queue.peekType();
                const payload = queue.takePayload();
                if (payload.length > this.#peerMaxFrame) {
                    queue.countOversized();
                    continue;
                }
                enc.push(Kind.EVENT, type, 0, payload);
                if (onWritten)
                    onWritten(type, Kind.EVENT, 12 + payload.length);
            }
            const frames = enc.pendingFrames;
            if (frames === 0)
                break;
            const bytes = enc.pendingBytes;
            const chunks = enc.take();
            if (chunks.length === 1) {
                socket.write(chunks[0]);
            }
            else {
                // cork + uncork makes node:net issue one writev for all chunks.
                socket.cork();
                for (const c of chunks)
                    socket.write(c);
                socket.uncork();
            }
            this.framesOut += frames;
            this.bytesOut += bytes;
        }
        if ((queue.length > 0 && !this.#eventsStopped) || calls.length > 0) {
            if (socket.writableNeedDrain)
                this.#waitingDrain = true;
            else
                this.schedule();
        }
        this.onFlushed?.(calls.length);
    };
}
//# sourceMappingURL=frame-writer.js.map
import { QueueFullError } from './errors.js';
/**
 * The bounded FIFO of encoded outbound events between `send` and the socket writer. A ring
 * buffer of parallel arrays: no object per event on the hot path. Producers blocked by the
 * 'block' policy wait in a FIFO that is itself bounded (by maxEvents).
 */
export class EventQueue {
    maxEvents;
    maxBytes;
    policy;
    /** Called when the queue goes from empty to non-empty (the writer schedules a flush). */
    onReadable;
    #types;
    #payloads;
    #head = 0;
    #size = 0;
    #bytes = 0;
    #waiters = [];
    #closed;
    #enqueued = 0;
    #droppedOldest = 0;
    #droppedNewest = 0;
    #rejected = 0;
    #droppedOversized = 0;
    constructor(options = {}) {
        this.maxEvents = Math.max(1, options.maxEvents ?? 16384);
        this.maxBytes = Math.max(1, options.maxBytes ?? 16 * 1024 * 1024);
        this.policy = options.policy ?? 'block';
        // The ring starts small and doubles as it fills: a server holds one queue per connection,
        // and most never hold more than a few events (16384 slots up front cost 160 KiB each).
        const cap = Math.min(this.maxEvents, 16);
        this.#types = new Uint16Array(cap);
        this.#payloads = new Array(cap);
    }
    /** Events held. */
    get length() {
        return this.#size;
    }
    /** Payload bytes held. */
    get bytes() {
        return this.#bytes;
    }
    /** Counters since creation. */
    stats() {
        return {
            depth: this.#size,
            bytes: this.#bytes,
            enqueued: this.#enqueued,
            droppedOldest: this.#droppedOldest,
            droppedNewest: this.#droppedNewest,
            rejected: this.#rejected,
            droppedOversized: this.#droppedOversized,
            blocked: this.#waiters.length,
        };
    }
    /** Total events dropped: by policy, or too large for the peer they were taken out for. */
    get dropped() {
        return this.#droppedOldest + this.#droppedNewest + this.#droppedOversized;
    }
    /** Counts an event the writer took out and could not send: too large for the current peer. */
    countOversized() {
        this.#droppedOversized++;
    }
    /**
     * Enqueues one encoded event. Returns a promise only when the 'block' policy has to wait.
     * @throws QueueFullError with policy 'error' when full, or when too many producers are blocked.
     */
    push(type, payload) {
        if (this.#closed)
            throw this.#closed;
        if (this.#fits(payload.length) && this.#waiters.length === 0) {
            this.#put(type, payload);
            return;
        }
        switch (this.policy) {
            case 'drop-newest':
                this.#droppedNewest++;
                return;
            case 'drop-oldest':
                while (this.#size > 0 && !this.#fits(payload.length)) {
                    this.#dropHead();
                }
                if (!this.#fits(payload.length)) {
                    this.#droppedNewest++; // larger than the whole byte budget
                    return;
                }
                this.#put(type, payload);
                return;
            case 'error':
                this.#rejected++;
                throw new QueueFullError(this.#limitText());
            case 'block':
                if (this.#waiters.length >= this.maxEvents) {
                    this.#rejected++;
                    throw new QueueFullError(`${this.#limitText()}, and ${this.#waiters.length} producers already waiting`);
                }
                if (payload.length > this.maxBytes) {
                    this.#rejected++;
                    throw new QueueFullError(`an event of ${payload.length} bytes exceeds the queue's byte bound ${this.maxBytes}`);
                }
                return new Promise((resolve, reject) => {
                    this.#waiters.push({ type, payload, resolve, reject });
                });
        }
    }
    /** Takes the oldest event's type; read its payload with {@link takePayload} right after. */
    peekType() {
        return this.#types[this.#head];
    }
    /** Removes the oldest event and returns its payload. Call only when length > 0. */
    takePayload() {
        const i = this.#head;
        const payload = this.#payloads[i];
        this.#payloads[i] = undefined;
        this.#head = i + 1 === this.#types.length ? 0 : i + 1;
        this.#size--;
        this.#bytes -= payload.length;
        if (this.#waiters.length > 0)
            this.#admitWaiters();
        return payload;
    }
    /** Fails blocked producers and refuses further pushes. Held events stay until {@link clear}. */
    close(err) {
        this.#closed = err;
        for (const w of this.#waiters.splice(0))
            w.reject(err);
    }
    /**
     * Drops everything held and returns how many. They are counted as dropped-oldest unless
     * `countAsOldest` is false (the caller counts them under its own reason, e.g. offline).
     */
    clear(countAsOldest = true) {
        const n = this.#size;
        while (this.#size > 0) {
            if (countAsOldest)
                this.#dropHead();
            else
                this.takePayload();
        }
        return n;
    }
    #fits(n) {
        return this.#size < this.maxEvents && this.#bytes + n <= this.maxBytes;
    }
    #put(type, payload) {
        if (this.#size === this.#types.length)
            this.#grow();
        let tail = this.#head + this.#size;
        if (tail >= this.#types.length)
            tail -= this.#types.length;
        this.#types[tail] = type;
        this.#payloads[tail] = payload;
        this.#size++;
        this.#bytes += payload.length;
        this.#enqueued++;
        if (this.#size === 1)
            this.onReadable?.();
    }
    /** Doubles the ring (up to maxEvents), unrolling it so the head is at 0. */
    #grow() {
        const old = this.#types.length;
        const cap = Math.min(this.maxEvents, old * 2);
        const types = new Uint16Array(cap);
        const payloads = new Array(cap);
        for (let i = 0; i < this.#size; i++) {
            const j = (this.#head + i) % old;
            types[i] = this.#types[j];
            payloads[i] = this.#payloads[j];
        }
        this.#types = types;
        this.#payloads = payloads;
        this.#head = 0;
    }
    #dropHead() {
        this.takePayload();
        this.#droppedOldest++;
    }
    #admitWaiters() {
        while (this.#waiters.length > 0 && this.#fits(this.#waiters[0].payload.length)) {
            const w = this.#waiters.shift();
            this.#put(w.type, w.payload);
            w.resolve();
        }
    }
    #limitText() {
        return `${this.#size}/${this.maxEvents} events, ${this.#bytes}/${this.maxBytes} bytes`;
    }
}
//# sourceMappingURL=event-queue.js.map
import { FrameEncoder } from '@vsock-rpc/wire';
/** Stream frames waiting for the socket. */
export class StreamLane {
    #core;
    #socket;
    #encoder;
    #highWater;
    #batchBytes;
    #frames = [];
    #head = 0;
    #scheduled = false;
    #waitingDrain = false;
    /** Bytes of payload queued here. */
    queuedBytes = 0;
    constructor(core, options = {}) {
        this.#core = core;
        this.#socket = core.socket;
        this.#encoder = new FrameEncoder({ inlineLimit: options.inlineLimit });
        this.#highWater = options.socketHighWater ?? 128 * 1024;
        this.#batchBytes = options.batchBytes ?? 64 * 1024;
        this.#socket.on('drain', () => {
            if (!this.#waitingDrain)
                return;
            this.#waitingDrain = false;
            this.#schedule();
        });
    }
    /** Frames waiting. */
    get length() {
        return this.#frames.length - this.#head;
    }
    /** Queues one frame; it leaves at the end of this tick, or when the socket has room. */
    push(kind, type, id, payload, flags, deadlineMs) {
        this.#frames.push({ kind, type, id, payload, deadlineMs, flags });
        this.queuedBytes += payload.length;
        this.#schedule();
    }
    /**
     * Takes every queued frame of stream `id` out; returns whether its OPEN (kind `openKind`) was
     * among them (then the peer never heard of the stream and needs no RESET). With `onlyIfOpen`,
     * nothing is taken out unless the OPEN is still here.
     */
    unqueue(id, openKind, onlyIfOpen = false) {
        if (onlyIfOpen && !this.#frames.some((f, i) => i >= this.#head && f.id === id && f.kind === openKind))
            return false;
        let hadOpen = false;
        const kept = [];
        for (let i = this.#head; i < this.#frames.length; i++) {
            const f = this.#frames[i];
            if (f.id === id) {
                if (f.kind === openKind)
                    hadOpen = true;
                this.queuedBytes -= f.payload.length;
            }
            else
                kept.push(f);
        }
        this.#frames = kept;
        this.#head = 0;
        return hadOpen;
    }
    /** Drops everything (teardown). */
    clear() {
        this.#frames = [];
        this.#head = 0;
        this.queuedBytes = 0;
    }
    #schedule() {
        if (this.#scheduled || this.#waitingDrain)
            return;
        this.#scheduled = true;
        process.nextTick(this.#flush);
    }
    #flush = () => {
        this.#scheduled = false;
        const core = this.#core;
        const socket = this.#socket;
        if (core.state === 'closed' || socket.destroyed || !socket.writable) {
            this.clear();
            return;
        }
        const enc = this.#encoder;
        const writer = core.writer;
        const frames = this.#frames;
        for (let round = 0; round < 8 && this.#head < frames.length && socket.writableLength < this.#highWater; round++) {
            while (this.#head < frames.length && enc.pendingBytes < this.#batchBytes) {
                const f = frames[this.#head];
                frames[this.#head++] = undefined;
                this.queuedBytes -= f.payload.length;
                enc.push(f.kind, f.type, f.id, f.payload, f.deadlineMs, f.flags);
                writer.onWritten?.(f.type, f.kind, 12 + (f.deadlineMs === undefined ? 0 : 4) + f.payload.length);
            }
            const n = enc.pendingFrames;
            const bytes = enc.pendingBytes;
            const chunks = enc.take();
            if (chunks.length === 1)
                socket.write(chunks[0]);
            else {
                socket.cork();
                for (const c of chunks)
                    socket.write(c);
                socket.uncork();
            }
            writer.framesOut += n;
            writer.bytesOut += bytes;
        }
        if (this.#head >= frames.length) {
            this.#frames = [];
            this.#head = 0;
            return;
        }
        if (this.#head > 1024 && this.#head * 2 > frames.length) {
            this.#frames = frames.slice(this.#head);
            this.#head = 0;
        }
        if (socket.writableNeedDrain || socket.writableLength >= this.#highWater)
            this.#waitingDrain = true;
        else {
            this.#scheduled = true;
            setImmediate(this.#flush);
        }
    };
}
//# sourceMappingURL=stream-lane.js.map
/**
 * Deadlines on progress, not on activity. A peer that sends one byte a second is active but
 * makes no progress: if each byte reset a timer, a frame header announcing 16 MiB followed by a
 * trickle would park that buffer forever. So:
 * - a frame must complete within `baseMs` plus its size at `minBytesPerSecond`;
 * - idle means "no complete frame" for the idle timeout, not "no byte";
 * - the handshake has a hard deadline from the moment the connection exists (Connection).
 * PROTOCOL.md §5 and §6 name the codes: FRAME_TIMEOUT, IDLE_TIMEOUT, HANDSHAKE_TIMEOUT.
 */
/** Tracks the frame in progress of one connection and when it must be complete. */
export class FrameProgress {
    #baseMs;
    #msPerByte;
    /** performance.now() when the first byte of the frame in progress arrived. */
    #startedAt;
    /** performance.now() of the last complete frame (or of the connection's start). */
    lastFrameAt;
    constructor(options = {}, now = performance.now()) {
        this.#baseMs = options.baseMs ?? 10_000;
        this.#msPerByte = 1000 / Math.max(1, options.minBytesPerSecond ?? 64 * 1024);
        this.lastFrameAt = now;
    }
    /**
     * Records one chunk: `completed` frames finished in it, and `pendingBytes` (the decoder's
     * announced size of the frame still in progress, 0 if none) is what is left over.
     */
    onChunk(completed, pendingBytes, now) {
        if (completed > 0)
            this.lastFrameAt = now;
        if (pendingBytes === 0)
            this.#startedAt = undefined;
        else if (completed > 0 || this.#startedAt === undefined)
            this.#startedAt = now; // a new frame began in this chunk
    }
    /** Whether a frame is in progress. */
    get inFrame() {
        return this.#startedAt !== undefined;
    }
    /**
     * How many ms past its deadline the frame in progress is (> 0: too slow), given its
     * announced size; ≤ 0 while it is on time or when there is none.
     */
    overdueMs(pendingBytes, now) {
        if (this.#startedAt === undefined)
            return 0;
        return now - this.#startedAt - (this.#baseMs + pendingBytes * this.#msPerByte);
    }
    /** The deadline in ms a frame of `bytes` gets (for messages). */
    allowanceMs(bytes) {
        return Math.round(this.#baseMs + bytes * this.#msPerByte);
    }
}
//# sourceMappingURL=receive-deadlines.js.map
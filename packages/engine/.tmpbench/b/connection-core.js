import { Codec, ControlType, DEFAULT_MAX_FRAME, Kind, encodeErrorPayload, escapeText } from '@vsock-rpc/wire';
import { formatAddress } from '@vsock-rpc/vsock';
import { stderrLogger } from './logger.js';
/** The Connection's {@link ConnectionCore}: the shared state it moves, the pauses and the log. */
export class SharedCore {
    options;
    codec;
    writer;
    socket;
    metrics;
    now;
    state = 'handshake';
    peer = undefined;
    peerMaxFrame = DEFAULT_MAX_FRAME;
    chunkAt = 0n;
    framesIn = 0;
    closeError = undefined;
    goawayReceived = undefined;
    #fail;
    #logger;
    #pauseReasons = new Set();
    #warned = new Map();
    /** `fail` is the Connection's: closes at once with `err`, `endGracefully` lets a GOAWAY out first. */
    constructor(socket, options, writer, fail) {
        this.socket = socket;
        this.options = options;
        this.codec = new Codec(options.registry);
        this.writer = writer;
        this.metrics = options.metrics;
        this.now = options.now ?? process.hrtime.bigint;
        this.#fail = fail;
        this.#logger = options.logger === null ? { warn: () => { } } : (options.logger ?? stderrLogger);
    }
    goawayAndFail(code, err) {
        if (this.state === 'closed')
            return;
        try {
            this.writer.writeUrgent(Kind.CONTROL, ControlType.GOAWAY, 0, encodeErrorPayload({ code, message: err.message }));
        }
        catch {
            /* the socket may already be gone */
        }
        this.#fail(err, true);
    }
    fail(err, endGracefully) {
        this.#fail(err, endGracefully);
    }
    pause(reason) {
        if (this.#pauseReasons.size === 0)
            this.socket.pause();
        this.#pauseReasons.add(reason);
    }
    resume(reason) {
        if (!this.#pauseReasons.delete(reason))
            return;
        if (this.#pauseReasons.size === 0 && !this.socket.destroyed)
            this.socket.resume();
    }
    isPaused(reason) {
        return this.#pauseReasons.has(reason);
    }
    /** Why reading is paused, if it is (ConnectionStats.readPaused). */
    get pauseReasons() {
        return [...this.#pauseReasons];
    }
    warnOnce(kind, message) {
        const now = performance.now();
        const last = this.#warned.get(kind);
        if (last !== undefined && now - last < 10_000)
            return;
        this.#warned.set(kind, now);
        this.log(message);
    }
    /**
     * Every line this connection logs passes here: it quotes what the peer chose (its HELLO name,
     * GOAWAY messages, schema paths), and a newline or an ANSI escape in those must not forge a
     * log line or reach the operator's terminal raw.
     */
    log(message) {
        this.#logger.warn(escapeText(message, 2048));
    }
    describePeer() {
        const address = formatAddress(this.options.peerInfo.address);
        return this.peer ? `${this.peer.name}@${address}` : address;
    }
}
//# sourceMappingURL=connection-core.js.map
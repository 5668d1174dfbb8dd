import { EventEmitter } from 'node:events';
import { ConnectionClosedError } from './errors.js';
import { Inbox } from './inbox.js';
import { EngineMetrics } from './metrics.js';
import { Router } from './router.js';
/**
 * What both engines share: the registry, the handlers, the inbox of received events, metrics
 * and the clock. Not used directly.
 */
export class EngineBase extends EventEmitter {
    registry;
    metrics;
    router;
    inbox;
    options;
    /** This side's clock in ns (CLOCK_MONOTONIC, shifted by clockSkewNs). */
    now;
    constructor(options, role) {
        super();
        this.options = options;
        this.registry = options.registry;
        this.router = new Router(options.registry);
        this.inbox = new Inbox(options.inboxCapacity);
        this.metrics = new EngineMetrics(options.registry, {
            promRegistry: options.promRegistry,
            prefix: options.metricsPrefix,
            labels: { role },
            codes: options.metricCodes,
        });
        const skew = options.clockSkewNs ?? 0n;
        this.now = skew === 0n ? process.hrtime.bigint : () => process.hrtime.bigint() + skew;
    }
    on(type, handler) {
        if (typeof type === 'string' && this.isMessageName(type))
            return this.router.on(type, handler);
        return super.on(type, handler);
    }
    /** Handles every message type (after type-specific handlers). Returns a remover. */
    onAnyEvent(handler) {
        return this.router.onAny((type, value, peer) => handler({ type, value, peer }));
    }
    /** Registers the handler of method `method`. */
    handle(method, handler) {
        this.router.handle(method, handler);
        return this;
    }
    /**
     * Registers the handler of stream method `name` (PROTOCOL.md §11), by its mode:
     * - `server`: `(request, stream) => …`: write responses with `await stream.write(v)`, or make
     *   it an `async function*` that yields them;
     * - `client`: `async (requests) => response`, reading with `for await (const r of requests)`;
     * - `bidi`: `(requests, stream) => …`, both.
     *
     * Returning ends the stream; throwing resets it (an `RpcError` keeps its code). The context's
     * `signal` aborts when the opener cancels, the deadline passes or the connection closes.
     *
     * @example
     * ```ts
     * server.handleStream('tail', async function* (req, stream) {
     *   for await (const line of follow(req.path, { signal: stream.signal })) yield { line };
     * });
     * ```
     */
    handleStream(name, handler) {
        this.router.handleStream(name, handler);
        return this;
    }
    /** The next event that has no handler (waits for one). Alias: {@link recvMesg}. */
    async recv() {
        const r = await this.inbox.next();
        if (r.done)
            throw new ConnectionClosedError('engine closed: no more events will arrive');
        return r.value;
    }
    /** The original's `recvMesg`: the same as {@link recv}. */
    recvMesg() {
        return this.recv();
    }
    /** Iterates events that have no handler, until the engine closes. */
    async *events() {
        for (;;) {
            const r = await this.inbox.next();
            if (r.done)
                return;
            yield r.value;
        }
    }
    [Symbol.asyncIterator]() {
        return this.events();
    }
    /** Latency percentiles of our calls, in µs. */
    latency() {
        return this.metrics.latency();
    }
    connectionOptions() {
        const o = this.options;
        return {
            registry: o.registry,
            router: this.router,
            inbox: this.inbox,
            name: o.name,
            maxFrame: o.maxFrame,
            inlineLimit: o.inlineLimit,
            handshakeTimeoutMs: o.handshakeTimeoutMs,
            maxConcurrentCalls: o.maxConcurrentCalls,
            maxPendingCalls: o.maxPendingCalls,
            maxPendingHandlers: o.maxPendingHandlers,
            keepaliveMs: o.keepaliveMs,
            idleTimeoutMs: o.idleTimeoutMs,
            frameDeadline: o.frameDeadline,
            budget: o.budget,
            maxUnreadBytes: o.maxUnreadBytes,
            streamWindow: o.streamWindow,
            features: o.features,
            maxStreams: o.maxStreams,
            now: this.now,
            logger: o.logger,
            metrics: this.metrics,
            queueOptions: o.queue,
        };
    }
    isMessageName(name) {
        return Object.prototype.hasOwnProperty.call(this.registry.messages, name);
    }
}
//# sourceMappingURL=engine-base.js.map
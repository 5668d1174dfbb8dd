/**
 * The method and event handlers of an engine, shared by all its connections. Lookups are by
 * TYPE_ id in arrays: one per frame on the hot path.
 */
export class Router {
    registry;
    #methods = [];
    #streams = [];
    #events = [];
    #anyEvent = [];
    constructor(registry) {
        this.registry = registry;
    }
    /** Registers the handler of method `name` (replacing any earlier one). */
    handle(name, handler) {
        this.#methods[this.registry.method(name).id] = handler;
    }
    /** The handler for method `id` and its entry, if both exist. */
    methodHandler(id) {
        const handler = this.#methods[id];
        const entry = this.registry.methodById(id);
        return handler && entry ? { entry, handler } : undefined;
    }
    /** Registers the handler of stream method `name` (replacing any earlier one). */
    handleStream(name, handler) {
        this.#streams[this.registry.stream(name).id] = handler;
    }
    /** The handler of stream method `id`, if any. */
    streamHandler(id) {
        return this.#streams[id];
    }
    /** Adds a handler for message `name`; returns a function that removes it. */
    on(name, handler) {
        const id = this.registry.message(name).id;
        const list = (this.#events[id] ??= []);
        list.push(handler);
        return () => {
            const i = list.indexOf(handler);
            if (i >= 0)
                list.splice(i, 1);
        };
    }
    /** Adds a handler for every message type; returns a function that removes it. */
    onAny(handler) {
        this.#anyEvent.push(handler);
        return () => {
            this.#anyEvent = this.#anyEvent.filter((h) => h !== handler);
        };
    }
    /** Handlers of message `id` (possibly empty). */
    eventHandlers(id) {
        return this.#events[id];
    }
    /** Handlers of every message. */
    get anyHandlers() {
        return this.#anyEvent;
    }
}
//# sourceMappingURL=router.js.map
/**
 * The one table every kind of outstanding work of a connection lives in: our calls waiting for
 * their reply (outgoing-calls.ts), the peer's calls whose handler runs (incoming-calls.ts), and
 * the PINGs and clock requests waiting for their answer (control-lane.ts). Entries are keyed by
 * their id on the wire (call id or nonce) and may have a deadline; the table owns that timer, so
 * taking an entry out clears it, and teardown is one `rejectAll` per table.
 *
 * An entry carries its own `timer` slot rather than being wrapped in an object of the table's:
 * calls are a hot path, and this adds no allocation per call to what was there before.
 */
/** Outstanding work keyed by id, each entry with an optional deadline. */
export class PendingTable {
    #entries = new Map();
    #reject;
    /** `reject` settles one entry when the connection goes away (see {@link rejectAll}). */
    constructor(reject) {
        this.#reject = reject;
    }
    get size() {
        return this.#entries.size;
    }
    has(id) {
        return this.#entries.has(id);
    }
    get(id) {
        return this.#entries.get(id);
    }
    /**
     * Adds (or replaces) entry `id`; with `timeoutMs`, `onTimeout` runs when it passes. The
     * callback gets the id, the value and the timeout as timer arguments, so a hot path can pass
     * a function made once instead of a closure per entry.
     */
    add(id, value, timeoutMs, onTimeout) {
        this.#entries.set(id, value);
        if (timeoutMs !== undefined && onTimeout !== undefined)
            value.timer = setTimeout(onTimeout, timeoutMs, id, value, timeoutMs);
    }
    /** Takes entry `id` out and clears its timer; undefined if there is none. */
    take(id) {
        const value = this.#entries.get(id);
        if (value === undefined)
            return undefined;
        this.#entries.delete(id);
        clearTimeout(value.timer);
        return value;
    }
    /** Takes out an entry the caller already looked up with {@link get} (no second lookup). */
    remove(id, value) {
        this.#entries.delete(id);
        clearTimeout(value.timer);
    }
    /** Clears every timer, settles every entry with `err` and empties the table. */
    rejectAll(err) {
        for (const value of this.#entries.values()) {
            clearTimeout(value.timer);
            this.#reject(value, err);
        }
        this.#entries.clear();
    }
}
//# sourceMappingURL=deadline-table.js.map
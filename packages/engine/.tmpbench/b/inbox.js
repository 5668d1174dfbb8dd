/**
 * A bounded buffer of received events for pull-style consumers (`recv()` and `for await`).
 * When it fills, the connections feeding it are paused (`onFull`), so a slow consumer slows the
 * senders through the transport's own flow control instead of growing memory; they resume
 * (`onDrain`) once it is half empty.
 */
export class Inbox {
    capacity;
    onFull;
    onDrain;
    #items = [];
    #head = 0;
    #waiters = [];
    #full = false;
    #ended = false;
    constructor(capacity = 8192) {
        this.capacity = Math.max(1, capacity);
    }
    /** Items waiting to be taken. */
    get length() {
        return this.#items.length - this.#head;
    }
    /** Whether the inbox is at capacity (its producers are paused). */
    get full() {
        return this.#full;
    }
    /** Adds one item; hands it straight to a waiting consumer if there is one. */
    put(item) {
        const w = this.#waiters.shift();
        if (w) {
            w.resolve({ value: item, done: false });
            return;
        }
        this.#items.push(item);
        if (!this.#full && this.length >= this.capacity) {
            this.#full = true;
            this.onFull?.();
        }
    }
    /** The next item, waiting for one if needed; `done` once {@link end} was called and all are taken. */
    next() {
        if (this.length > 0) {
            const value = this.#items[this.#head];
            this.#items[this.#head++] = undefined;
            if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
                this.#items = this.#items.slice(this.#head);
                this.#head = 0;
            }
            if (this.#full && this.length <= this.capacity / 2) {
                this.#full = false;
                this.onDrain?.();
            }
            return Promise.resolve({ value, done: false });
        }
        if (this.#ended)
            return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
    }
    /** No more items will come: waiting consumers get `done`. */
    end() {
        this.#ended = true;
        for (const w of this.#waiters.splice(0))
            w.resolve({ value: undefined, done: true });
    }
    /** An async iterator over the items. Breaking out of the loop does not end the inbox. */
    [Symbol.asyncIterator]() {
        return { next: () => this.next(), return: async () => ({ value: undefined, done: true }) };
    }
}
//# sourceMappingURL=inbox.js.map
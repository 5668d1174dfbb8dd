/**
 * The key of peers that have no identity of their own to tell them apart (unix sockets, hybrid
 * vsock): they share it, and the per-key limit does not apply to it. On hybrid vsock one host
 * socket is one VM, and on a unix socket every peer is a local process: capping the key would
 * cap the whole VM or the whole host, not one peer among many.
 */
export const SHARED_KEY = 'shared';
/** The connections of a server by peer key, in accept order. Not exported from the package. */
export class ConnectionSlots {
    /** Every connection with its key; a Map keeps insertion (accept) order, oldest first. */
    #keyOf = new Map();
    #byKey = new Map();
    /** Connections holding a slot. */
    get size() {
        return this.#keyOf.size;
    }
    /** Connections of `key` holding a slot. */
    countOf(key) {
        return this.#byKey.get(key)?.size ?? 0;
    }
    /** Keys with at least one connection (a bounded map: empty keys are removed). */
    get keyCount() {
        return this.#byKey.size;
    }
    /** The connections, oldest first. */
    connections() {
        return this.#keyOf.keys();
    }
    add(connection, key) {
        this.#keyOf.set(connection, key);
        let set = this.#byKey.get(key);
        if (!set)
            this.#byKey.set(key, (set = new Set()));
        set.add(connection);
    }
    /** Frees the slot of `connection`; false when it held none (already evicted, say). */
    delete(connection) {
        const key = this.#keyOf.get(connection);
        if (key === undefined)
            return false;
        this.#keyOf.delete(connection);
        const set = this.#byKey.get(key);
        set.delete(connection);
        if (set.size === 0)
            this.#byKey.delete(key);
        return true;
    }
    /**
     * The connection to close to make room, or undefined when none may be: first one whose
     * handshake is pending, then one silent for more than `idleAfterMs` (0: never idle). Among
     * several, it is taken from the key with the most connections (the flooding peer), and within
     * that key the oldest handshake, or the longest silence. With `onlyKey`, only that key's.
     * O(connections): it runs once per connection accepted while full.
     */
    victim(idleAfterMs, onlyKey) {
        return this.#pick('handshake', () => true, onlyKey) ?? (idleAfterMs > 0 ? this.#pick('idle', (c) => (c.idleMs ?? 0) > idleAfterMs, onlyKey) : undefined);
    }
    #pick(reason, eligible, onlyKey) {
        const state = reason === 'handshake' ? 'handshake' : 'open';
        let best;
        let bestKey = '';
        let bestCount = 0;
        let bestIdle = -1;
        for (const [c, key] of this.#keyOf) {
            if (onlyKey !== undefined && key !== onlyKey)
                continue;
            if (c.state !== state || !eligible(c))
                continue;
            const count = this.countOf(key);
            const idle = reason === 'idle' ? (c.idleMs ?? 0) : 0;
            // Iteration is oldest first: for handshakes a later one wins only from a bigger key; for
            // idle ones, from a bigger key or with a longer silence in the same key.
            if (best === undefined || count > bestCount || (count === bestCount && key === bestKey && idle > bestIdle)) {
                best = c;
                bestKey = key;
                bestCount = count;
                bestIdle = idle;
            }
        }
        return best === undefined ? undefined : { connection: best, key: bestKey, reason };
    }
}
//# sourceMappingURL=connection-slots.js.map
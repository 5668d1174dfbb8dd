/**
 * The connection slots of a server, grouped by peer key, and the choice of which connection to
 * evict when a newcomer needs a slot (packages/engine/README.md, "Connection slots"). A flood of
 * idle or half-open connections from one peer must not keep the others out: a full server makes
 * room by closing what serves nobody yet (handshake pending) or no longer (idle), starting with
 * the peer that holds the most.
 */
import type { Connection } from './connection.js';
import type { EvictionReason } from './metrics.js';

/**
 * The key of peers that have no identity of their own to tell them apart (unix sockets, hybrid
 * vsock): they share it, and the per-key limit does not apply to it. On hybrid vsock one host
 * socket is one VM, and on a unix socket every peer is a local process: capping the key would
 * cap the whole VM or the whole host, not one peer among many.
 */
export const SHARED_KEY = 'shared';

/** What the slot table needs of a connection: its state, and for how long the peer has been silent. */
export type SlotConnection = Pick<Connection, 'state'> & { readonly idleMs?: number };

/** A connection chosen for eviction and why. */
export interface Eviction<C> {
  readonly connection: C;
  readonly key: string;
  readonly reason: EvictionReason;
}

/** The connections of a server by peer key, in accept order. Not exported from the package. */
export class ConnectionSlots<C extends SlotConnection = Connection> {
  /** Every connection with its key; a Map keeps insertion (accept) order, oldest first. */
  readonly #keyOf = new Map<C, string>();
  readonly #byKey = new Map<string, Set<C>>();

  /** Connections holding a slot. */
  get size(): number {
    return this.#keyOf.size;
  }

  /** Connections of `key` holding a slot. */
  countOf(key: string): number {
    return this.#byKey.get(key)?.size ?? 0;
  }

  /** Keys with at least one connection (a bounded map: empty keys are removed). */
  get keyCount(): number {
    return this.#byKey.size;
  }

  /** The connections, oldest first. */
  connections(): IterableIterator<C> {
    return this.#keyOf.keys();
  }

  add(connection: C, key: string): void {
    this.#keyOf.set(connection, key);
    let set = this.#byKey.get(key);
    if (!set) this.#byKey.set(key, (set = new Set()));
    set.add(connection);
  }

  /** Frees the slot of `connection`; false when it held none (already evicted, say). */
  delete(connection: C): boolean {
    const key = this.#keyOf.get(connection);
    if (key === undefined) return false;
    this.#keyOf.delete(connection);
    const set = this.#byKey.get(key)!;
    set.delete(connection);
    if (set.size === 0) this.#byKey.delete(key);
    return true;
  }

  /**
   * The connection to close to make room, or undefined when none may be: first one whose
   * handshake is pending, then one silent for more than `idleAfterMs` (0: never idle). Among
   * several, it is taken from the key with the most connections (the flooding peer), and within
   * that key the oldest handshake, or the longest silence. With `onlyKey`, only that key's.
   * O(connections): it runs once per connection accepted while full.
   */
  victim(idleAfterMs: number, onlyKey?: string): Eviction<C> | undefined {
    return this.#pick('handshake', () => true, onlyKey) ?? (idleAfterMs > 0 ? this.#pick('idle', (c) => (c.idleMs ?? 0) > idleAfterMs, onlyKey) : undefined);
  }

  #pick(reason: EvictionReason, eligible: (c: C) => boolean, onlyKey: string | undefined): Eviction<C> | undefined {
    const state = reason === 'handshake' ? 'handshake' : 'open';
    let best: C | undefined;
    let bestKey = '';
    let bestCount = 0;
    let bestIdle = -1;
    for (const [c, key] of this.#keyOf) {
      if (onlyKey !== undefined && key !== onlyKey) continue;
      if (c.state !== state || !eligible(c)) continue;
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

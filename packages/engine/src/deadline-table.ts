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

/** What a table holds: anything with a slot for its deadline timer. */
export interface Pending {
  timer: NodeJS.Timeout | undefined;
}

/**
 * Runs when an entry's deadline passes. The entry is still in the table: the callback decides
 * whether it is done (`take` it) or stays (a running call whose deadline passed is aborted but
 * still counts against the concurrency limit until its handler returns).
 */
export type OnTimeout<V> = (id: number, value: V, timeoutMs: number) => void;

/** Outstanding work keyed by id, each entry with an optional deadline. */
export class PendingTable<V extends Pending> {
  readonly #entries = new Map<number, V>();
  readonly #reject: (value: V, err: Error) => void;

  /** `reject` settles one entry when the connection goes away (see {@link rejectAll}). */
  constructor(reject: (value: V, err: Error) => void) {
    this.#reject = reject;
  }

  get size(): number {
    return this.#entries.size;
  }

  has(id: number): boolean {
    return this.#entries.has(id);
  }

  get(id: number): V | undefined {
    return this.#entries.get(id);
  }

  /**
   * Adds (or replaces) entry `id`; with `timeoutMs`, `onTimeout` runs when it passes. The
   * callback gets the id, the value and the timeout as timer arguments, so a hot path can pass
   * a function made once instead of a closure per entry.
   */
  add(id: number, value: V, timeoutMs?: number, onTimeout?: OnTimeout<V>): void {
    this.#entries.set(id, value);
    if (timeoutMs !== undefined && onTimeout !== undefined) value.timer = setTimeout(onTimeout, timeoutMs, id, value, timeoutMs);
  }

  /** Takes entry `id` out and clears its timer; undefined if there is none. */
  take(id: number): V | undefined {
    const value = this.#entries.get(id);
    if (value === undefined) return undefined;
    this.#entries.delete(id);
    clearTimeout(value.timer);
    return value;
  }

  /** Takes out an entry the caller already looked up with {@link get} (no second lookup). */
  remove(id: number, value: V): void {
    this.#entries.delete(id);
    clearTimeout(value.timer);
  }

  /** Clears every timer, settles every entry with `err` and empties the table. */
  rejectAll(err: Error): void {
    for (const value of this.#entries.values()) {
      clearTimeout(value.timer);
      this.#reject(value, err);
    }
    this.#entries.clear();
  }
}

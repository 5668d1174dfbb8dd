/**
 * Bounded memory of sources that left. Per-source counters must outlive a disconnect (a summary
 * reports them; dedup state must survive a reconnect), yet a peer that connects under ever new
 * names must not grow a host's maps without bound (packages/trace/README.md, "Defences").
 *
 * @packageDocumentation
 */
import { invalidArgument } from './errors.js';

/** Default number of departed sources whose per-source state is kept. */
export const DEFAULT_MAX_RETIRED_SOURCES = 1024;

/**
 * The departed sources, oldest first. {@link RetiredSources.retire} returns the sources to
 * forget (beyond the bound): the owner folds their counters into an aggregate and deletes them.
 */
export class RetiredSources {
  readonly #order = new Set<string>();
  readonly #max: number;

  /** @param max - how many departed sources to keep (≥ 0). */
  constructor(max = DEFAULT_MAX_RETIRED_SOURCES) {
    if (!Number.isSafeInteger(max) || max < 0) throw invalidArgument(`maxRetiredSources must be an integer ≥ 0, got ${max}`);
    this.#max = max;
  }

  /** Number of departed sources kept. */
  get size(): number {
    return this.#order.size;
  }

  /** Whether `source` is a kept departed source. */
  has(source: string): boolean {
    return this.#order.has(source);
  }

  /**
   * `source` left. @returns the sources to forget now (oldest departures first), possibly empty.
   */
  retire(source: string): string[] {
    this.#order.delete(source);
    this.#order.add(source);
    const evict: string[] = [];
    for (const s of this.#order) {
      if (this.#order.size - evict.length <= this.#max) break;
      evict.push(s);
    }
    for (const s of evict) this.#order.delete(s);
    return evict;
  }

  /** `source` is back (reconnected): it is no longer departed. */
  revive(source: string): void {
    this.#order.delete(source);
  }
}

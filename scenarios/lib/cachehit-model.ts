/**
 * The expectation for the cache scenario: an LRU cache with a TTL, given only its capacity and TTL
 * (read from the target's metrics), replayed over the reads in the order and at the times they were
 * sent. It reproduces the textbook figures (a sequential scan over twice the capacity: no hits; a hot
 * set smaller than the capacity: 1 - hot/reads) and stays right when a phase outlasts the TTL.
 * Semantics of lru-cache as the target configures it: a hit moves the entry to the front but does not
 * renew its TTL; a stale entry is a miss and is refilled; beyond capacity the least recent goes.
 */

export type CacheOutcome = 'hit' | 'miss';

/** One read as sent: which item, when (ms on the scenario's clock). */
export interface ModelRead {
  readonly key: number;
  readonly atMs: number;
}

/** Most reads a phase may be off from the model: reordering among concurrent reads and TTL edges. */
export const EXPECTATION_TOLERANCE = { reads: 2, fraction: 0.02 } as const;

/** Reads by which the measured hits may differ from the model's over `reads` reads. */
export function allowedDeviation(reads: number): number {
  return Math.max(EXPECTATION_TOLERANCE.reads, Math.ceil(EXPECTATION_TOLERANCE.fraction * reads));
}

export class LruTtlModel {
  /** Key -> time it was filled; Map order is recency (first = least recent). */
  readonly #entries = new Map<number, number>();
  readonly #capacity: number;
  readonly #ttlMs: number;

  constructor(capacity: number, ttlMs: number) {
    if (!(Number.isInteger(capacity) && capacity > 0)) throw new RangeError(`cache capacity must be a positive integer, got ${capacity}`);
    if (!(ttlMs > 0)) throw new RangeError(`cache TTL must be positive, got ${ttlMs} ms`);
    this.#capacity = capacity;
    this.#ttlMs = ttlMs;
  }

  /** A read of `key` at `atMs`: the outcome the cache should give, with the model updated as the cache would be. */
  access(key: number, atMs: number): CacheOutcome {
    const filledAt = this.#entries.get(key);
    if (filledAt !== undefined) {
      this.#entries.delete(key);
      if (atMs - filledAt <= this.#ttlMs) {
        this.#entries.set(key, filledAt);
        return 'hit';
      }
    }
    this.#entries.set(key, atMs);
    if (this.#entries.size > this.#capacity) {
      const oldest = this.#entries.keys().next();
      if (oldest.done !== true) this.#entries.delete(oldest.value);
    }
    return 'miss';
  }

  /** Replays reads in the order given; returns the hits. */
  replay(reads: readonly ModelRead[]): number {
    let hits = 0;
    for (const read of reads) if (this.access(read.key, read.atMs) === 'hit') hits += 1;
    return hits;
  }
}

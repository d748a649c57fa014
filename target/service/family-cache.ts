/**
 * Per-instance LRU+TTL cache of families, kept coherent across instances through the store's change
 * log: every read first polls the log and evicts the families changed since the last poll. A write
 * acknowledged by any instance is in the log before its response, so a read that starts after it
 * never returns an older version.
 */
import { LRUCache } from 'lru-cache';
import type { CacheConfig } from '../config.ts';
import type { Family } from '../domain.ts';
import type { ChangeCursor, OpContext, Store } from '../store/store.ts';
import type { EvictionReason } from './metrics.ts';

export interface CacheObserver {
  cacheHit(): void;
  cacheMiss(): void;
  cacheEvicted(reason: EvictionReason): void;
}

/** The store reads the cache needs. */
export type FamilyReads = Pick<Store, 'getFamily' | 'familyChangesSince'>;

export interface CachedRead {
  readonly family: Family | null;
  readonly cache: 'hit' | 'miss';
}

const EVICTION_REASONS: Partial<Record<LRUCache.DisposeReason, EvictionReason>> = {
  evict: 'capacity',
  expire: 'ttl',
  delete: 'invalidation',
};

/** The family cache of one instance. */
export class FamilyCache {
  private readonly lru: LRUCache<string, Family>;
  private cursor: ChangeCursor | null = null;
  private inFlight: Promise<void> | null = null;
  private queued: Promise<void> | null = null;
  /**
   * Bumped by every invalidation. A read that missed fills the cache only if no invalidation happened
   * while it read the store: otherwise it could store a version older than a write it raced with.
   */
  private epoch = 0;

  constructor(
    private readonly store: FamilyReads,
    config: CacheConfig,
    private readonly observer: CacheObserver,
    now: () => number,
  ) {
    this.lru = new LRUCache<string, Family>({
      max: config.maxEntries,
      ttl: config.ttlMs,
      // Resolution 0: TTLs follow the injected clock exactly (tests drive it).
      ttlResolution: 0,
      perf: { now },
      dispose: (_value, _key, reason) => {
        const mapped = EVICTION_REASONS[reason];
        if (mapped !== undefined) observer.cacheEvicted(mapped);
      },
    });
  }

  get size(): number {
    return this.lru.size;
  }

  /** The family (or `null` when unknown), from the cache when it is there and still current. */
  async read(familyId: string, op: OpContext): Promise<CachedRead> {
    await this.sync(op);
    const cached = this.lru.get(familyId);
    if (cached !== undefined) {
      this.observer.cacheHit();
      return { family: cached, cache: 'hit' };
    }
    this.observer.cacheMiss();
    const epochAtRead = this.epoch;
    const family = await this.store.getFamily(familyId, op);
    if (family !== null && epochAtRead === this.epoch) this.lru.set(familyId, family);
    return { family, cache: 'miss' };
  }

  /** Drops a family this instance just changed (the change log would too, on the next read). */
  invalidate(familyId: string): void {
    this.epoch += 1;
    this.lru.delete(familyId);
  }

  /**
   * Polls the change log. Concurrent callers share polls, but a caller never joins a poll that
   * started before it arrived: that poll may predate a write acknowledged just before the caller.
   */
  private sync(op: OpContext): Promise<void> {
    if (this.inFlight === null) return this.startPoll(op);
    this.queued ??= this.inFlight
      .then(
        () => undefined,
        () => undefined,
      )
      .then(() => {
        this.queued = null;
        return this.startPoll(op);
      });
    return this.queued;
  }

  private startPoll(op: OpContext): Promise<void> {
    const poll = this.poll(op).finally(() => {
      if (this.inFlight === poll) this.inFlight = null;
    });
    this.inFlight = poll;
    return poll;
  }

  private async poll(op: OpContext): Promise<void> {
    const changes = await this.store.familyChangesSince(this.cursor, op);
    if (changes.familyIds.length > 0) {
      this.epoch += 1;
      for (const id of changes.familyIds) this.lru.delete(id);
    }
    this.cursor = changes.cursor;
  }
}

// FamilyCache interleavings a real SQLite store cannot produce on demand: a controllable store decides when each read returns.
import { describe, expect, it } from 'vitest';
import type { Family } from '../../target/domain.ts';
import { FamilyCache, type FamilyReads } from '../../target/service/family-cache.ts';
import type { FamilyChanges, OpContext } from '../../target/store/store.ts';

interface Pending<T> {
  readonly resolve: (value: T) => void;
}

/** Every store call waits until the test resolves it, in the order the test chooses. */
class ScriptedStore implements FamilyReads {
  readonly polls: Pending<FamilyChanges>[] = [];
  readonly reads: Pending<Family | null>[] = [];

  familyChangesSince(): Promise<FamilyChanges> {
    return new Promise((resolve) => this.polls.push({ resolve }));
  }

  getFamily(): Promise<Family | null> {
    return new Promise((resolve) => this.reads.push({ resolve }));
  }
}

const op = (): OpContext => ({ timings: [] });
const family = (version: number): Family => ({
  id: 'f1', name: `v${version}`, sbdUsername: 'family_f1', ownerId: 'u1', admins: ['u1'], members: ['u1'], balance: 0, version, createdAt: '',
});
const noChanges = (n: number): FamilyChanges => ({ familyIds: [], cursor: String(n) });
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
const observer = { cacheHit: () => undefined, cacheMiss: () => undefined, cacheEvicted: () => undefined };

function newCache(store: ScriptedStore): FamilyCache {
  return new FamilyCache(store, { maxEntries: 10, ttlMs: 60_000 }, observer, () => 0);
}

describe('FamilyCache', () => {
  it('a read never joins a change-log poll that started before it arrived', async () => {
    const store = new ScriptedStore();
    const cache = newCache(store);
    const first = cache.read('f1', op());
    await settle();
    const second = cache.read('f1', op());
    const third = cache.read('f1', op());
    await settle();
    expect(store.polls).toHaveLength(1);
    store.polls[0]?.resolve(noChanges(1));
    await settle();
    // `second` and `third` arrived while poll 1 ran: they share one fresh poll.
    expect(store.polls).toHaveLength(2);
    store.reads[0]?.resolve(family(1));
    store.polls[1]?.resolve(noChanges(2));
    await settle();
    expect(store.polls).toHaveLength(2);
    for (const read of store.reads.slice(1)) read.resolve(family(1));
    await Promise.all([first, second, third]);
  });

  it('a slow miss does not overwrite the cache with a version older than an invalidation it raced with', async () => {
    const store = new ScriptedStore();
    const cache = newCache(store);
    const slow = cache.read('f1', op());
    await settle();
    store.polls[0]?.resolve(noChanges(1));
    await settle(); // `slow` now waits for its store read of version 1
    const fresh = cache.read('f1', op());
    await settle();
    store.polls[1]?.resolve({ familyIds: ['f1'], cursor: '2' }); // version 2 was written meanwhile
    await settle();
    store.reads[1]?.resolve(family(2));
    expect((await fresh).family?.version).toBe(2);
    store.reads[0]?.resolve(family(1)); // the slow read finishes last, with the old version
    expect((await slow).family?.version).toBe(1);

    const next = cache.read('f1', op());
    await settle();
    store.polls[2]?.resolve(noChanges(3));
    const got = await next;
    expect([got.cache, got.family?.version]).toEqual(['hit', 2]);
  });
});

import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import { DomainError } from '../../target/domain.ts';
import { mongoHarness, sqliteHarness } from './helpers/store-harness.ts';

const HARNESSES = [sqliteHarness(), mongoHarness()];
/** A short store wait and a small pool, so the stall bites at once and the test stays short. */
const CONFIG = { storeWaitMs: 100, dbPoolSize: 2 };
const STALL_MS = 800;
/** Bound on how long a write may take to be refused during the stall: the store wait plus room for a busy machine. */
const REFUSED_WITHIN_MS = CONFIG.storeWaitMs + 400;

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'resolved';
  } catch (error) {
    return error instanceof DomainError ? error.code : String(error);
  }
}

describe.each(HARNESSES.map((h) => [h.kind, h] as const))('%s store stall fault', (kind, h) => {
  const title = h.skipReason === null ? 'stall' : `stall (skipped: ${h.skipReason})`;
  describe.skipIf(h.skipReason !== null)(title, () => {
    afterEach(() => h.cleanup());
    afterAll(() => h.dispose());

    it('refuses writes with store_unavailable within the store wait while stalled, and takes them again afterwards', async () => {
      const store = await h.open(CONFIG);
      const ctx = { timings: [] };
      await store.createUser({ username: 'before_stall', tokenHash: 'h1' }, ctx);
      const stall = await store.stall?.(STALL_MS);
      expect(stall?.scope).toBe(kind === 'sqlite' ? 'database' : 'instance');
      const started = performance.now();
      expect(await codeOf(store.createUser({ username: 'during_stall', tokenHash: 'h2' }, ctx))).toBe('store_unavailable');
      const refusedAfter = performance.now() - started;
      expect(refusedAfter).toBeGreaterThanOrEqual(CONFIG.storeWaitMs * 0.9);
      expect(refusedAfter).toBeLessThan(REFUSED_WITHIN_MS);
      // SQLite in WAL: the held write lock leaves readers alone.
      if (kind === 'sqlite') expect((await store.findUserByUsername('before_stall', ctx))?.username).toBe('before_stall');
      await sleep(STALL_MS);
      await expect(store.createUser({ username: 'after_stall', tokenHash: 'h3' }, ctx)).resolves.toMatchObject({ username: 'after_stall' });
    }, 20_000);
  });
});

import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import cacheHitRates from '../../scenarios/scalability/cache-hit-rates.ts';
import { allowedDeviation, LruTtlModel } from '../../scenarios/lib/cachehit-model.ts';
import { judgePhase } from '../../scenarios/lib/cachehit-phase.ts';
import { planReads } from '../../scenarios/lib/cachehit-plan.ts';
import type { ScenarioDefinition } from '../../src/scenario/definition.ts';
import { DEFAULT_SERVICE_CONFIG } from '../../target/config.ts';
import type { ServiceConfig } from '../../target/config.ts';
import { createService } from '../../target/service/create-service.ts';
import { openStore } from '../../target/store/open-store.ts';
import { rewriteHeader, startHeaderProxy } from './helpers/header-proxy.ts';
import { runScenarioOn, startServiceInTest } from './helpers/scenario-harness.ts';
import type { ServiceInTest } from './helpers/scenario-harness.ts';

const scenario = cacheHitRates as unknown as ScenarioDefinition;
const SHAPE = { scanFactor: 2, scanPasses: 2, hotFraction: 0.25, hotRounds: 20, mixedFactor: 5, mixedHotShare: 0.7, ttlFamilies: 4 };
/** A small cache with a short TTL, so a run against a service in this process takes a few seconds. */
const SMALL_CACHE: Partial<ServiceConfig> = { cache: { maxEntries: 20, ttlMs: 1_000 }, rateLimit: { limit: 1_000_000, windowMs: 60_000 } };

describe('LRU+TTL model and read plan', () => {
  it('gives no hits for a sequential scan over twice the capacity, and 1 - hot/reads for a hot set that fits', () => {
    const plan = planReads(40, SHAPE);
    expect(plan.families).toBe(84);
    expect(plan.sequential).toHaveLength(160);
    expect(plan.hot).toHaveLength(10);
    expect(plan.ttl).toEqual([80, 81, 82, 83]);
    const model = new LruTtlModel(40, 60_000);
    expect(model.replay(plan.sequential.map((key) => ({ key, atMs: 0 })))).toBe(0);
    expect(model.replay(plan.hotReads.map((key) => ({ key, atMs: 1 })))).toBe(200 - 10);
    const mixedHot = plan.mixed.filter((k) => k < 10).length;
    expect(mixedHot / plan.mixed.length).toBeCloseTo(0.7, 1);
    expect(new Set(plan.mixed.filter((k) => k >= 10)).size).toBe(plan.mixed.length - mixedHot); // cold reads never repeat
  });

  it('expires entries after the TTL without renewing it on hits, and evicts the least recent', () => {
    const model = new LruTtlModel(2, 100);
    expect([model.access(1, 0), model.access(1, 50), model.access(1, 100), model.access(1, 101)]).toEqual(['miss', 'hit', 'hit', 'miss']);
    expect([model.access(2, 110), model.access(1, 120), model.access(3, 130), model.access(2, 140), model.access(1, 150)]).toEqual(['miss', 'hit', 'miss', 'miss', 'miss']);
  });

  it('judges header/metrics agreement exactly, unless requests went unanswered', () => {
    const tally = { answered: 10, hits: 6, misses: 4, unlabelled: 0, notOk: 0, unanswered: 0, evidence: [] };
    const delta = { hits: 6, misses: 4, evictions: { capacity: 0, ttl: 0, invalidation: 0 } };
    expect(judgePhase('p', tally, delta, 6).problems).toEqual([]);
    expect(judgePhase('p', tally, { ...delta, hits: 5, misses: 5 }, 5).problems).toEqual(['p: x-cache says 6 hits / 4 misses, /metrics 5 / 5']);
    expect(judgePhase('p', { ...tally, unanswered: 1 }, { ...delta, hits: 5, misses: 5 }, 5).problems).toEqual([]);
    expect(judgePhase('p', tally, delta, 6 + allowedDeviation(10) + 1).problems[0]).toMatch(/^p: 6 hits of 10 reads, the LRU\+TTL model expects 9/);
  });
});

describe('cache-hit-rates scenario', () => {
  it('passes at the smoke profile on the embedded deployment, with the configuration read from /metrics', async () => {
    const result = await runScenarioOn(scenario, { profile: 'smoke' });
    expect(result.reasons).toEqual([]);
    expect(result.status).toBe('passed');
    const m = result.metrics;
    expect([m['cache.capacity'], m['cache.ttl']]).toEqual([40, 2000]);
    expect(m['hit_rate.sequential']).toBe(0);
    expect(m['hit_rate.hot']).toBeGreaterThan(0.9);
    expect(m['hit_rate.mixed']).toBeGreaterThan(0.5);
    expect(m['hit_rate.mixed']).toBeLessThan(0.75);
    expect(m['evictions.capacity']).toBeGreaterThan(0);
    expect(m['evictions.ttl']).toBeGreaterThanOrEqual(4);
    expect(m['latency.p50']).toBeLessThanOrEqual(m['latency.p99'] ?? -1);
    expect(result.tables.phases?.map((row) => [row.phase, row.verdict])).toEqual([
      ['sequential', 'ok'], ['hot set', 'ok'], ['mixed hot/cold', 'ok'], ['TTL expiry', 'ok'],
    ]);
    expect(result.tables.ttl?.every((row) => row.reads === 'miss, hit, miss')).toBe(true);
  }, 30_000);

  describe('against broken services', () => {
    let honest: ServiceInTest;
    let liar: { url: string; close: () => Promise<void> };
    let frozen: { url: string; close: () => Promise<void> };
    beforeAll(async () => {
      honest = await startServiceInTest({ config: SMALL_CACHE });
      liar = await startHeaderProxy([honest.url], rewriteHeader('x-cache', () => 'hit'));
      frozen = await startFrozenClockService(SMALL_CACHE);
    });
    afterAll(async () => {
      await liar.close();
      await Promise.all([honest.close(), frozen.close()]);
    });

    it('catches x-cache headers that always say hit', async () => {
      const result = await runScenarioOn(scenario, { mode: { kind: 'external', url: liar.url } });
      expect(result.status).toBe('failed');
      const check = result.checks.find((c) => c.name === 'x-cache agrees with gauntlet_cache_hits_total / misses_total');
      expect(check?.passed).toBe(false);
      expect(check?.detail).toMatch(/^sequential: x-cache says 80 hits \/ 0 misses, \/metrics 0 \/ 80/);
      expect(result.metrics['cache.capacity']).toBe(20);
      expect(result.metrics['hit_rate.disagreements']).toBe(4);
    }, 30_000);

    it('catches a cache whose entries never expire', async () => {
      const result = await runScenarioOn(scenario, { mode: { kind: 'external', url: frozen.url } });
      expect(result.status).toBe('failed');
      const ttl = result.checks.find((c) => c.name === 'TTL: hit right after a read, miss once the TTL has passed');
      expect(ttl).toMatchObject({ passed: false, actual: '0 of 4' });
      expect(ttl?.detail).toMatch(/family [0-9a-f-]+: miss, hit, hit \(third read \d+ ms after the first was answered; TTL 1000 ms\)/);
      expect(result.checks.find((c) => c.name === 'TTL expiries counted as evictions{reason="ttl"}')).toMatchObject({ passed: false, actual: 0 });
      expect(result.checks.find((c) => c.name === 'x-cache agrees with gauntlet_cache_hits_total / misses_total')?.passed).toBe(true);
    }, 30_000);
  });
});

/** The reference service with a clock that never moves: its cache reports a TTL but never expires an entry. */
async function startFrozenClockService(config: Partial<ServiceConfig>): Promise<{ url: string; close: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'gauntlet-cachehit-'));
  const full: ServiceConfig = { ...DEFAULT_SERVICE_CONFIG, ...config };
  const store = await openStore({ kind: 'sqlite', path: join(dir, 'target.db') }, full);
  const frozenAt = Date.now();
  const service = createService({ store, config: full, instanceId: 'frozen-1', now: () => frozenAt, log: () => undefined });
  await new Promise<void>((resolve) => service.server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(service.server.address() as AddressInfo).port}`,
    close: async () => {
      await service.close();
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

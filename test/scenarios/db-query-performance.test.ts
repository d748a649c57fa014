

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import dbQueryPerformance from '../../scenarios/scalability/db-query-performance.ts';
import { compareQueryTotals } from '../../scenarios/lib/query-metrics-agreement.ts';
import { parseServerTiming, ServerTimingRecorder } from '../../scenarios/lib/query-server-timing.ts';
import type { ScenarioDefinition } from '../../src/scenario/definition.ts';
import type { OpContext, Store } from '../../target/store/store.ts';
import { rewriteHeader, startHeaderProxy } from './helpers/header-proxy.ts';
import { runScenarioOn, startServiceInTest, storeWith } from './helpers/scenario-harness.ts';
import type { ServiceInTest } from './helpers/scenario-harness.ts';

const scenario = dbQueryPerformance as unknown as ScenarioDefinition;
/** Against a service in this process: a short run is enough to see every response. */
const SMALL = { ratePerSec: 40, durationMs: 1000 };
const NO_LIMIT = { rateLimit: { limit: 1_000_000, windowMs: 60_000 } };

describe('Server-Timing parsing and recording', () => {
  it('parses names and durations, ignoring quoted commas and other params', () => {
    expect(parseServerTiming('db-user-lookup;dur=0.05, db-rate-limit;desc="a, b";dur=1.5,cache, x;dur=abc')).toEqual([
      { name: 'db-user-lookup', durMs: 0.05 },
      { name: 'db-rate-limit', durMs: 1.5 },
      { name: 'cache', durMs: null },
      { name: 'x', durMs: null },
    ]);
    expect(parseServerTiming('')).toEqual([]);
  });

  it('counts missing headers and responses lacking a required query', () => {
    const r = new ServerTimingRecorder(['a', 'b'], 201);
    r.record(201, 'a;dur=1, b;dur=2, a;dur=3');
    r.record(201, undefined);
    r.record(201, 'a;dur=1');
    r.record(409, 'a;dur=1');
    const report = r.report();
    expect(report).toMatchObject({ responses: 4, missing: 1, incomplete: 1, totals: { a: { count: 4, sumMs: 6 }, b: { count: 1, sumMs: 2 } } });
    expect(report.evidence).toEqual(['#2 201: no Server-Timing header', '#3 201: Server-Timing "a;dur=1" lacks b']);
    expect(r.dbTotal().totalCount).toBe(3);
  });

  it('agrees within the 0.01 ms rounding of the header, counts exactly unless requests went unanswered', () => {
    const metrics = { q: { count: 100, sumMs: 100.4 }, only: { count: 2, sumMs: 1 } };
    const ok = compareQueryTotals({ q: { count: 100, sumMs: 100 } }, { q: metrics.q }, 0);
    expect(ok.disagreements).toEqual([]);
    const bad = compareQueryTotals({ q: { count: 99, sumMs: 300 } }, metrics, 0);
    expect(bad.disagreements).toHaveLength(2);
    expect(bad.disagreements[0]).toMatch(/^only: Server-Timing 0 x 0 ms, \/metrics 2 x 0.5 ms/);
    expect(compareQueryTotals({ q: { count: 99, sumMs: 99.4 } }, { q: metrics.q }, 1).disagreements).toEqual([]);
  });
});

describe('db-query-performance scenario', () => {
  it('passes at the smoke profile on the embedded deployment', async () => {
    const result = await runScenarioOn(scenario, { profile: 'smoke' });
    expect(result.reasons).toEqual([]);
    expect(result.status).toBe('passed');
    const m = result.metrics;
    expect(m.creations).toBe(200);
    expect(m['server_timing.missing']).toBe(0);
    expect(m['metrics.disagreements']).toBe(0);
    for (const q of ['db_user_lookup', 'db_rate_limit', 'db_family_count', 'db_family_insert']) {
      expect(m[`query.${q}.p50`]).toBeGreaterThanOrEqual(0);
      expect(m[`query.${q}.p50`]).toBeLessThanOrEqual(m[`query.${q}.p99`] ?? -1);
    }
    expect(m['latency.p50']).toBeLessThanOrEqual(m['latency.p99'] ?? -1);
    expect(m['latency.uncorrected.p50']).toBeGreaterThan(0);
    expect(m['db.share']).toBeGreaterThan(0);
    expect(m['db.share']).toBeLessThan(1);
    expect(m.throughput).toBeGreaterThan(0);
    expect(Object.keys(result.histograms)).toEqual(expect.arrayContaining(['latency', 'latency.uncorrected', 'db.total', 'query.db-family-insert']));
    expect(result.tables.agreement?.every((row) => row.agrees === true)).toBe(true);
  }, 30_000);

  describe('against broken services', () => {
    let silent: ServiceInTest;
    let honest: ServiceInTest;
    let liar: { url: string; close: () => Promise<void> };
    beforeAll(async () => {
      // Every query the creation path runs records its timing into a list nobody reads: no Server-Timing.
      const untimed = (op: OpContext): OpContext => ({ ...op, timings: [] });
      silent = await startServiceInTest({
        config: NO_LIMIT,
        wrap: (inner: Store) =>
          storeWith(inner, {
            findUserByTokenHash: (hash, op) => inner.findUserByTokenHash(hash, untimed(op)),
            hitRateLimit: (hit, op) => inner.hitRateLimit(hit, untimed(op)),
            createFamily: (input, op) => inner.createFamily(input, untimed(op)),
          }),
      });
      honest = await startServiceInTest({ config: NO_LIMIT });
      liar = await startHeaderProxy([honest.url], rewriteHeader('server-timing', (value) => value.replace(/dur=([\d.]+)/g, (_m, d: string) => `dur=${(Number(d) * 3 + 0.05).toFixed(2)}`)));
    });
    afterAll(async () => {
      await liar.close();
      await Promise.all([silent.close(), honest.close()]);
    });

    it('fails "Server-Timing on every response" when the service sends none', async () => {
      const result = await runScenarioOn(scenario, { params: SMALL, mode: { kind: 'external', url: silent.url } });
      expect(result.status).toBe('failed');
      const check = result.checks.find((c) => c.name === 'Server-Timing on every response');
      expect(check).toMatchObject({ passed: false, expected: 0, actual: 40 });
      expect(check?.detail).toMatch(/^40 of 40 responses without it: #1 201: no Server-Timing header/);
      expect(result.checks.find((c) => c.name === 'every creation answered 201')?.passed).toBe(true);
    }, 30_000);

    it('fails the /metrics cross-check when Server-Timing reports other durations than the metrics', async () => {
      const result = await runScenarioOn(scenario, { params: SMALL, mode: { kind: 'external', url: liar.url } });
      expect(result.status).toBe('failed');
      const check = result.checks.find((c) => c.name === 'Server-Timing agrees with gauntlet_db_query_duration_seconds');
      expect(check?.passed).toBe(false);
      expect(check?.detail).toMatch(/db-family-insert: Server-Timing 40 x [\d.]+ ms, \/metrics 40 x [\d.]+ ms/);
      expect(result.metrics['metrics.disagreements']).toBeGreaterThanOrEqual(4);
      expect(result.checks.find((c) => c.name === 'Server-Timing on every response')?.passed).toBe(true);
    }, 30_000);
  });
});

import { afterAll, describe, expect, it } from 'vitest';
import scenario from '../../scenarios/scalability/resource-constraints.ts';
import { runScenarioOn, startServiceInTest, storeWith } from './helpers/scenario-harness.ts';
import type { ServiceInTest } from './helpers/scenario-harness.ts';

describe('resource-constraints scenario', () => {
  it('passes at the smoke profile: baseline, memory pressure and CPU contention, with ratios', async () => {
    const result = await runScenarioOn(scenario, { profile: 'smoke', params: { requests: 800 } });
    expect(result.checks.filter((c) => !c.passed)).toEqual([]);
    // A generator that fell behind on this shared 2-core box is the only reason allowed: it judges gauntlet, not the target.
    expect(result.reasons.filter((r) => !r.startsWith('generator saturated'))).toEqual([]);
    expect(result.loadRuns.map((r) => r.label.split(' ')[0])).toEqual(['baseline', 'memory', 'cpu']);
    const m = result.metrics;
    for (const c of ['baseline', 'memory', 'cpu']) {
      expect(m[`${c}.success_rate`]).toBe(1);
      expect(m[`${c}.errors_5xx_rate`]).toBe(0);
      expect(m[`${c}.throughput`]).toBeGreaterThan(0);
      expect(m[`${c}.latency.p50`]).toBeLessThanOrEqual(m[`${c}.latency.p99`] ?? 0);
    }
    expect(m['memory.throughput_ratio']).toBeGreaterThan(0);
    expect(m['cpu.p99_ratio']).toBeGreaterThan(0);
    expect(result.tables.conditions?.map((r) => r.condition)).toEqual(['baseline', 'memory', 'cpu']);
    expect(result.notes.join(' ')).toMatch(/CPU hogs \(pids \d+, \d+\) used [\d.]+ CPU-s in the [\d.]+ s they ran/);
    expect(m['memory.gc.count']).toBeGreaterThan(m['baseline.gc.count'] ?? Infinity);
  }, 60_000);

  describe('against a service that fails one read in five with a 500', () => {
    let service: ServiceInTest | undefined;
    afterAll(async () => {
      await service?.close();
    });

    it('fails the 5xx and success-rate checks with the statuses as evidence', async () => {
      let reads = 0;
      service = await startServiceInTest({
        config: { rateLimit: { limit: 1_000_000, windowMs: 60_000 } },
        wrap: (inner) =>
          storeWith(inner, {
            getFamily: (id, op) => {
              reads += 1;
              // Not a DomainError the API maps to 4xx: an unexpected failure, answered 500.
              if (reads % 5 === 0) return Promise.reject(new Error('broken store: read failed'));
              return inner.getFamily(id, op);
            },
          }),
      });
      const result = await runScenarioOn(scenario, { profile: 'smoke', params: { requests: 400 }, mode: { kind: 'external', url: service.url } });
      expect(result.status).toBe('failed');
      const fiveXx = result.checks.find((c) => c.name === 'baseline: 5xx and unanswered requests');
      expect(fiveXx?.passed).toBe(false);
      expect(fiveXx?.detail).toMatch(/500 x\d+/);
      expect(result.checks.find((c) => c.name === 'cpu: success rate')?.passed).toBe(false);
      expect(result.metrics['baseline.errors_5xx_rate']).toBeGreaterThan(0.05);
      expect(result.notes.join(' ')).toMatch(/Memory pressure skipped/);
    }, 60_000);
  });
});

import { afterAll, describe, expect, it } from 'vitest';
import scenario from '../../scenarios/concurrency/cache-coherence.ts';
import { judgeCoherence } from '../../scenarios/lib/coherence-oracle.ts';
import type { ObservedRead } from '../../scenarios/lib/coherence-oracle.ts';
import type { ScenarioResult } from '../../src/results/schema.ts';
import type { Store } from '../../target/store/store.ts';
import { runScenarioOn, storeWith } from './helpers/scenario-harness.ts';
import { runScenarioOnCluster, serviceConfigFor, startSharedSqliteCluster } from './helpers/shared-sqlite-cluster.ts';
import type { SharedSqliteCluster } from './helpers/shared-sqlite-cluster.ts';

const read = (version: number, tStart: number, via = 'i-2'): ObservedRead => ({ familyId: 'f', via, instanceId: via, tStart, version });

describe('coherence oracle (exact timestamps)', () => {
  const acks = [
    { familyId: 'f', version: 1, tAck: 0 },
    { familyId: 'f', version: 2, tAck: 100 },
    { familyId: 'f', version: 3, tAck: 200 },
  ];

  it('accepts reads of the acknowledged version or newer, and old versions read before the acknowledgement', () => {
    const verdict = judgeCoherence(acks, [read(1, 50), read(1, 100), read(2, 150), read(3, 199), read(3, 250)]);
    expect(verdict).toEqual({ violations: [], stalenessMaxMs: 0 });
  });

  it('flags a read that started after a newer version was acknowledged and measures from the first missed write', () => {
    const verdict = judgeCoherence(acks, [read(1, 130), read(2, 260), read(1, 240, 'balancer')]);
    expect(verdict.violations).toEqual([
      { familyId: 'f', via: 'i-2', instanceId: 'i-2', versionSeen: 1, versionAcknowledged: 2, lateMs: 30 },
      { familyId: 'f', via: 'i-2', instanceId: 'i-2', versionSeen: 2, versionAcknowledged: 3, lateMs: 60 },
      { familyId: 'f', via: 'balancer', instanceId: 'balancer', versionSeen: 1, versionAcknowledged: 3, lateMs: 140 },
    ]);
    expect(verdict.stalenessMaxMs).toBe(140);
  });

  it('judges each family against its own writes only', () => {
    const verdict = judgeCoherence([...acks, { familyId: 'g', version: 9, tAck: 0 }], [read(3, 300)]);
    expect(verdict.violations).toHaveLength(0);
  });
});

describe('cache-coherence scenario', () => {
  it('passes at the smoke profile against the embedded deployment (2 instances and the balancer)', async () => {
    const result = await runScenarioOn(scenario, { profile: 'smoke' });
    expect(result.reasons).toEqual([]);
    expect(result.status).toBe('passed');
    expect(result.checks.every((c) => c.passed)).toBe(true);
    const m = result.metrics;
    expect(m.violations).toBe(0);
    expect(m['staleness.max']).toBe(0);
    expect(m.writes).toBeGreaterThan(0);
    expect(m.reads).toBeGreaterThan(m.writes ?? 0);
    expect(m['cache.hit_ratio']).toBeGreaterThan(0);
    expect(m['cache.hit_ratio']).toBeLessThanOrEqual(1);
    expect(m['latency.p50']).toBeGreaterThan(0);
    expect(m['latency.p50']).toBeLessThanOrEqual(m['latency.p99'] ?? 0);
    // Both instances directly and the balancer were read through.
    expect(result.tables.origins?.map((row) => String(row.via)).sort()).toEqual(['balancer', 'i1', 'i2']);
  }, 30_000);

  describe('against two instances whose caches ignore the change log', () => {
    let cluster: SharedSqliteCluster | undefined;
    afterAll(async () => {
      await cluster?.close();
    });

    it('reports violations with evidence and a staleness window', async () => {
      const params = { durationMs: 800 };
      const { config } = serviceConfigFor(scenario, { ...scenario.profiles.smoke, ...params });
      const deaf = (inner: Store): Store =>
        storeWith(inner, {
          // Never reports a change, so an instance drops a family only when it wrote it itself.
          familyChangesSince: (cursor) => Promise.resolve({ familyIds: [], cursor: cursor ?? 'start' }),
        });
      cluster = await startSharedSqliteCluster({ instances: 2, config, wrap: deaf });
      const result: ScenarioResult = await runScenarioOnCluster(scenario, cluster, { params });
      expect(result.status).toBe('failed');
      const check = result.checks.find((c) => c.name === 'no read older than an acknowledged write');
      expect(check?.passed).toBe(false);
      expect(check?.detail).toMatch(/family \S+ via in-process-\d: saw version \d+ after version \d+ was acknowledged \([\d.]+ ms late\)/);
      expect(result.metrics.violations).toBeGreaterThan(0);
      expect(result.metrics['staleness.max']).toBeGreaterThan(0);
      expect(result.reasons.some((r) => r.startsWith('check failed: no read older'))).toBe(true);
    }, 30_000);
  });
});

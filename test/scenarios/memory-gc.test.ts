import { afterAll, describe, expect, it } from 'vitest';
import scenario from '../../scenarios/scalability/memory-gc.ts';
import { memoryWorkload, operationAt } from '../../scenarios/lib/memory-workload.ts';
import type { FamilyView, TestUser } from '../../src/scenario/fixtures.ts';
import { runScenarioOn, startServiceInTest, storeWith } from './helpers/scenario-harness.ts';
import type { ServiceInTest } from './helpers/scenario-harness.ts';

/** What the leaking store keeps per authenticated request: ~50 KB of heap (a packed array of 6400 numbers). */
const LEAK_ELEMENTS = 6400;
/** Module-level on purpose: the leak must outlive every request, as a real one does. */
const retained: unknown[] = [];

describe('memory workload', () => {
  const users = (n: number, tag: string): TestUser[] => Array.from({ length: n }, (_, i) => ({ id: `${tag}${i}`, username: `${tag}_${i}`, token: `t${tag}${i}` }));
  const families = (owners: TestUser[]): FamilyView[] =>
    owners.map((o, i) => ({ id: `f${i}`, name: `f ${i}`, sbdUsername: `family_f_${i}`, ownerId: o.id, admins: [o.id], members: [o.id], balance: 0, version: 1 }));

  it('mixes every operation kind near its configured fraction', () => {
    const kinds = Array.from({ length: 10_000 }, (_, i) => operationAt(i));
    const share = (k: string): number => kinds.filter((x) => x === k).length / kinds.length;
    expect(share('create')).toBeCloseTo(0.1, 2);
    expect(share('invite')).toBeCloseTo(0.1, 2);
    expect(share('rename')).toBeCloseTo(0.1, 2);
    expect(share('list')).toBeCloseTo(0.15, 2);
    expect(share('read')).toBeCloseTo(0.55, 2);
  });

  it('never invites the same user to the same family twice, and turns invitations beyond capacity into reads', () => {
    const owners = users(4, 'o');
    const invitees = users(3, 'i');
    const w = memoryWorkload(owners, families(owners), invitees, 'tag');
    const pairs = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      const spec = w.request(i);
      if (spec.path.endsWith('/invitations')) {
        const pair = `${spec.path} ${String(spec.body)}`;
        expect(pairs.has(pair)).toBe(false);
        pairs.add(pair);
      }
    }
    expect(pairs.size).toBe(12);
    expect(w.counts.invite).toBe(12);
    expect(Object.values(w.counts).reduce((a, b) => a + b, 0)).toBe(2000);
  });
});

describe('memory-gc scenario', () => {
  it('passes at the smoke profile against the embedded target, with a forced-GC settle and per-batch figures', async () => {
    const result = await runScenarioOn(scenario, { profile: 'smoke' });
    expect(result.checks.filter((c) => !c.passed)).toEqual([]);
    // The generator-saturation reason is the only one this shared box may add; it is not the target's verdict.
    expect(result.reasons.filter((r) => !r.startsWith('generator saturated'))).toEqual([]);
    const m = result.metrics;
    const p = scenario.profiles.smoke;
    expect(m.operations).toBe(p.batches * p.batchSize);
    expect(m['errors.rate']).toBe(0);
    expect(m['memory.heap_used.baseline']).toBeGreaterThan(1024 * 1024);
    expect(m['memory.rss.max']).toBeGreaterThan(m['memory.heap_used.max'] ?? Infinity);
    expect(m['memory.growth_per_op.ci_high']).toBeGreaterThanOrEqual(m['memory.growth_per_op'] ?? Infinity);
    expect(result.tables.batches).toHaveLength(p.batches);
    expect(result.series.memory?.map((s) => s.x)).toEqual(Array.from({ length: p.batches }, (_, i) => i + 1));
    expect(result.notes[0]).toMatch(/full GC forced/);
    expect(result.checks.map((c) => c.name)).toContain('RSS agrees between /metrics and /proc');
  }, 60_000);

  describe('against a service that keeps ~50 KB of every authenticated request in memory', () => {
    let service: ServiceInTest | undefined;
    afterAll(async () => {
      retained.length = 0;
      await service?.close();
    });

    it('fails the growth checks with the slope and its interval as evidence', async () => {
      service = await startServiceInTest({
        config: { familyLimit: 1_000_000, rateLimit: { limit: 1_000_000, windowMs: 60_000 } },
        wrap: (inner) =>
          storeWith(inner, {
            findUserByTokenHash: async (hash, op) => {
              const user = await inner.findUserByTokenHash(hash, op);
              retained.push({ user, payload: new Array<number>(LEAK_ELEMENTS).fill(retained.length) });
              return user;
            },
          }),
      });
      const result = await runScenarioOn(scenario, { profile: 'smoke', params: { warmUpOperations: 150, batches: 6, batchSize: 150 }, mode: { kind: 'external', url: service.url } });
      expect(result.status).toBe('failed');
      const bound = result.checks.find((c) => c.name === 'heap growth per operation below threshold (95% CI upper bound)');
      expect(bound?.passed).toBe(false);
      expect(bound?.detail).toMatch(/slope \d+(\.\d)? B\/op, 95% CI \[\d/);
      const slope = result.checks.find((c) => c.name === 'no sustained upward slope of the settled heap');
      expect(slope?.passed).toBe(false);
      expect(result.metrics['memory.growth_per_op']).toBeGreaterThan(20_000);
      expect(result.notes[0]).toMatch(/No forced GC/);
    }, 60_000);
  });
});

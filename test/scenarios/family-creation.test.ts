import { afterAll, describe, expect, it } from 'vitest';
import familyCreation from '../../scenarios/concurrency/family-creation.ts';
import { judgeCreation } from '../../scenarios/lib/creation-oracle.ts';
import type { OwnerReadBack } from '../../scenarios/lib/creation-oracle.ts';
import type { ScenarioDefinition } from '../../src/scenario/definition.ts';
import type { FamilyView } from '../../src/scenario/fixtures.ts';
import type { ScenarioResult } from '../../src/results/schema.ts';
import type { Store } from '../../target/store/store.ts';
import { findCheck, runScenarioOn, startServiceInTest, storeWith } from './helpers/scenario-harness.ts';
import type { ServiceInTest } from './helpers/scenario-harness.ts';

const definition = familyCreation as unknown as ScenarioDefinition;
const LIMIT = 3;
const SMALL = { instances: 1, creators: 24, sharedNames: 3, racers: 3, familyLimit: LIMIT, raceHeadroom: 1, raceAttempts: 4 };
const services: ServiceInTest[] = [];

afterAll(async () => {
  await Promise.all(services.map((s) => s.close()));
});

async function runAgainstBroken(wrap: (inner: Store) => Store): Promise<ScenarioResult> {
  const service = await startServiceInTest({ config: { familyLimit: LIMIT, rateLimit: { limit: 1_000_000, windowMs: 60_000 } }, wrap });
  services.push(service);
  return runScenarioOn(definition, { params: SMALL, mode: { kind: 'external', url: service.url } });
}


describe('family-creation scenario', () => {
  it('passes at the smoke profile on the embedded target (2 instances), with sane metrics', async () => {
    const result = await runScenarioOn(definition, { profile: 'smoke' });
    expect(result.reasons).toEqual([]);
    expect(result.status).toBe('passed');
    expect(result.checks.every((c) => c.passed)).toBe(true);
    const p = familyCreation.profiles.smoke;
    const m = result.metrics;
    expect(m.created).toBe(p.creators + p.racers * p.raceHeadroom);
    expect(m['duplicates.sbd']).toBe(0);
    expect(m['limit.violations']).toBe(0);
    expect(m['errors.rate']).toBe(0);
    const [p50, p95, p99, max] = [m['latency.p50'], m['latency.p95'], m['latency.p99'], m['latency.max']].map(Number);
    expect(p50).toBeGreaterThan(0);
    expect(p50).toBeLessThanOrEqual(p95 ?? NaN);
    expect(p95).toBeLessThanOrEqual(p99 ?? NaN);
    expect(p99).toBeLessThanOrEqual(max ?? NaN);
    expect(m.throughput).toBeGreaterThan(0);
    expect(result.histograms.latency?.summary?.count).toBe(p.creators + p.racers * p.raceAttempts);
    expect(result.loadRuns[0]?.sent).toBe(p.creators + p.racers * p.raceAttempts);
    expect(result.tables.instances?.length).toBe(2);
  }, 30_000);

  it('fails when the store skips the family limit: racers end above it', async () => {
    const result = await runAgainstBroken((inner) =>
      storeWith(inner, { createFamily: (input, ctx) => inner.createFamily({ ...input, familyLimit: Number.MAX_SAFE_INTEGER }, ctx) }));
    expect(result.status).toBe('failed');
    const over = findCheck(result, 'no owner above the family limit');
    expect(over.passed).toBe(false);
    expect(over.actual).toBe(SMALL.racers);
    expect(over.detail).toMatch(/owns 6/);
    expect(findCheck(result, 'racing creations').passed).toBe(false);
    expect(result.metrics['limit.violations']).toBe(SMALL.racers);
  });

  it('fails when sbd suffixes come from a per-instance counter instead of the lowest free n', async () => {
    let counter = 0;
    const result = await runAgainstBroken((inner) =>
      storeWith(inner, {
        // The broken allocator: name + counter gives family_<slug>_<counter>; the rename restores the name, not the sbd.
        async createFamily(input, ctx) {
          counter += 1;
          const family = await inner.createFamily({ ...input, name: `${input.name} ${counter}` }, ctx);
          return inner.renameFamily({ familyId: family.id, name: input.name }, ctx);
        },
      }));
    expect(result.status).toBe('failed');
    const sbd = findCheck(result, 'sbdUsernames are family_<slug>');
    expect(sbd.passed).toBe(false);
    expect(sbd.detail).toMatch(/suffixes|->/);
    expect(result.metrics['sbd.violations']).toBeGreaterThan(0);
  });

  it('counts repeated family IDs and sbdUsernames in what it reads back', () => {
    const family = (id: string, sbd: string): FamilyView => ({
      id, name: 'a x', sbdUsername: sbd, ownerId: 'u1', admins: ['u1'], members: ['u1'], balance: 0, version: 1,
    });
    const owner: OwnerReadBack = {
      userId: 'u1', role: 'creator', preOwned: 0, answers: [],
      owned: [family('f1', 'family_a_x'), family('f1', 'family_a_x_2'), family('f2', 'family_a_x_2')],
    };
    const verdict = judgeCreation({ owners: [owner], familyLimit: 10, headroom: 0, byIdMismatches: [] });
    expect(verdict.duplicateIds).toBe(1);
    expect(verdict.duplicateSbd).toBe(1);
    expect(verdict.checks.find((c) => c.name.startsWith('family IDs unique'))?.detail).toContain('f1');
    expect(verdict.checks.find((c) => c.name.startsWith('sbdUsernames unique'))?.detail).toContain('family_a_x_2');
    expect(verdict.checks.find((c) => c.name.startsWith('families read back'))?.passed).toBe(false);
  });
});

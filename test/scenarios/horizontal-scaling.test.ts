import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import scenario, { readMostly } from '../../scenarios/scalability/horizontal-scaling.ts';
import { measureScaling } from '../../scenarios/lib/scaling-measure.ts';
import type { ScalingPlan } from '../../scenarios/lib/scaling-measure.ts';
import { scalingChecks, scalingMetrics } from '../../scenarios/lib/scaling-report.ts';
import { nextRate, searchSustainableRate } from '../../scenarios/lib/scaling-search.ts';
import { runOpenModel, SATURATION_BOUNDS } from '../../src/load/index.ts';
import { openTargetSession } from '../../src/runner/target-session.ts';
import type { TargetSession } from '../../src/runner/target-session.ts';
import { Fixtures } from '../../src/scenario/fixtures.ts';
import { JsonClient } from '../../src/scenario/json-client.ts';
import { runScenarioOn } from './helpers/scenario-harness.ts';

const OPTIONS = { startRate: 100, minRate: 25, maxRate: 1_600, maxSteps: 8, precision: 0.1 };

describe('rate search', () => {
  it('doubles until a failure, then bisects to within the precision', async () => {
    const asked: number[] = [];
    const limit = 700;
    const result = await searchSustainableRate(
      (rate) => {
        asked.push(rate);
        return Promise.resolve(rate);
      },
      (rate) => rate <= limit,
      OPTIONS,
    );
    expect(asked).toEqual([100, 200, 400, 800, 600, 700, 750]);
    expect(result.best?.rate).toBe(700);
    expect(result.ceiling?.rate).toBe(750);
    expect(result.end).toBe('precision');
  });

  it('halves down from a failing start and gives up below the minimum rate', async () => {
    const asked: number[] = [];
    const result = await searchSustainableRate((rate) => Promise.resolve(asked.push(rate)), () => false, OPTIONS);
    expect(asked).toEqual([100, 50, 25]);
    expect(result.best).toBeNull();
    expect(result.end).toBe('min-rate');
  });

  it('with confirmFailures, probes a failing rate once more and believes the second verdict', async () => {
    const asked: number[] = [];
    let hiccups = 1;
    const result = await searchSustainableRate(
      (rate) => {
        asked.push(rate);
        return Promise.resolve(rate);
      },
      (rate) => {
        if (rate === 200 && hiccups > 0) {
          hiccups -= 1;
          return false;
        }
        return rate <= 700;
      },
      { ...OPTIONS, maxSteps: 10, confirmFailures: true },
    );
    expect(asked).toEqual([100, 200, 200, 400, 800, 800, 600, 700, 750, 750]);
    expect(result.best?.rate).toBe(700);
    expect(result.ceiling?.rate).toBe(750);
  });

  it('stops at the maximum rate and at the step budget, never beyond', async () => {
    const all = await searchSustainableRate((rate) => Promise.resolve(rate), () => true, OPTIONS);
    expect(all.steps.map((s) => s.rate)).toEqual([100, 200, 400, 800, 1600]);
    expect(all.end).toBe('max-rate');
    const short = await searchSustainableRate((rate) => Promise.resolve(rate), () => true, { ...OPTIONS, maxSteps: 2 });
    expect(short.steps).toHaveLength(2);
    expect(short.end).toBe('steps');
    expect(nextRate(400, 440, OPTIONS)).toEqual({ kind: 'stop', end: 'precision' });
  });
});

describe('horizontal-scaling scenario', () => {
  it('passes at the smoke profile: 1 and 2 instances, a searched rate each, efficiency reported', async () => {
    const result = await runScenarioOn(scenario, { profile: 'smoke' });
    expect(result.reasons).toEqual([]);
    expect(result.status).toBe('passed');
    const m = result.metrics;
    expect(m['throughput.n1']).toBeGreaterThan(0);
    expect(m['throughput.n2']).toBeGreaterThan(0);
    expect(m['efficiency.n2']).toBeGreaterThan(0);
    expect(m['success.rate']).toBeGreaterThanOrEqual(0.99);
    expect(m['latency.p99']).toBeLessThanOrEqual(100);
    // Every step of the search is in the table, and each count's accepted step is one of them.
    const search = result.tables.search ?? [];
    expect(search.length).toBe((m['search.steps'] ?? 0) + 2);
    expect(search.filter((row) => row.accepted === true).map((row) => row.instances)).toEqual([1, 2]);
    // With two instances, the balancer spread the accepted step over both.
    const two = result.tables.instances?.find((row) => row.instances === 2);
    expect(String(two?.perNode)).toMatch(/i1:\d+ i2:\d+|i2:\d+ i1:\d+/);
    expect(result.notes.some((n) => n.includes('cannot be linear'))).toBe(true);
  }, 40_000);

  describe('against one instance presented as two', () => {
    let session: TargetSession;
    let request: ReturnType<typeof readMostly>;
    const DELAY_MS = 20;
    const CONNECTIONS = 4;

    beforeAll(async () => {
      session = await openTargetSession({ kind: 'embedded', store: 'sqlite' });
      await session.ensure({ instances: 1, faults: true, service: { rateLimit: { limit: 1_000_000 } } });
      const http = new JsonClient(session.view().url);
      const fixtures = new Fixtures(http);
      const users = await fixtures.createUsers(4, 'fake');
      const families = await Promise.all(users.map((u, i) => fixtures.createFamily(u, `fake ${i}`)));
      await http.close();
      const reads = readMostly(families.map((f, i) => ({ familyId: f.id, token: users[i]?.token ?? '' })));
      // A known capacity, so the figure is not noise: each answer held 20 ms, over 4 connections -> at most 200/s,
      // however many instances the broken deployment claims to have.
      request = (index) => {
        const spec = reads(index);
        return { ...spec, headers: { ...spec.headers, 'x-fault': `delay-ms=${DELAY_MS}` } };
      };
    });
    afterAll(async () => {
      await session.stop();
    });

    it('measures an efficiency near 1/2, so a configured minimum of 75% fails', async () => {
      const plan: ScalingPlan = {
        counts: [1, 2],
        objectiveMs: 100,
        minSuccess: 0.99,
        stepMs: 500,
        warmupMs: 300,
        search: { startRate: 50, minRate: 25, maxRate: 3_200, maxSteps: 10, precision: 0.1, confirmFailures: true },
      };
      const deployed: number[] = [];
      const results = await measureScaling(plan, {
        // The broken deployment: whatever is asked, the same single instance answers.
        deploy: (n) => Promise.resolve((deployed.push(n), session.view().url)),
        runStep: (url, rate, durationMs, req) =>
          runOpenModel({
            target: url, schedule: { kind: 'constant', ratePerSec: rate }, end: { durationMs }, request: req, connections: CONNECTIONS,
            // What is measured here is the 200/s capacity, far above any lateness of a loaded test machine:
            // a late send must not end a search step below it (noise that made the two counts disagree).
            saturationBounds: { ...SATURATION_BOUNDS, maxLatenessP99Ms: 50 },
          }),
        request,
        phase: () => undefined,
      });
      expect(deployed).toEqual([1, 2]);
      const metrics = scalingMetrics(results);
      const checks = scalingChecks(results, { minSuccess: 0.99, minEfficiencyAt2: 0.75, objectiveMs: 100 });
      const check = checks.find((c) => c.name.startsWith('scaling efficiency with 2 instances'));
      // Measured, not missing: the figure itself shows no gain from the "second" instance.
      expect(metrics['efficiency.n2']).toBeGreaterThan(0);
      expect(metrics['efficiency.n2']).toBeLessThan(0.75);
      expect(check?.passed).toBe(false);
      expect(check?.detail).toMatch(/throughput n=1 [\d.]+\/s, n=2 [\d.]+\/s/);
      // Only one instance ever answered.
      expect(Object.keys(results[1]?.search.best?.outcome.instanceCounts ?? {})).toEqual(['i1']);
    }, 30_000);
  });
});

import { describe, expect, it } from 'vitest';
import { compareRuns, holm } from '../../src/report/compare.ts';
import { mannWhitney, normalCdf } from '../../src/report/noise-stats.ts';
import type { RunResults } from '../../src/results/schema.ts';
import { fixture, mutableFixture } from './fixtures.ts';

function verdicts(baseline: RunResults, current: RunResults, tolerance?: number): Map<string, string> {
  const c = compareRuns(baseline, current, tolerance);
  return new Map(c.scenarios.flatMap((s) => s.metrics.map((m) => [`${s.id}:${m.metric}`, m.verdict])));
}

const regressions = (v: Map<string, string>): string[] => [...v].filter(([, verdict]) => verdict === 'regression').map(([k]) => k);

describe('compare', () => {
  it('pure noise (same distributions, other seed): no regression, although some figures moved past the tolerance', () => {
    const c = compareRuns(fixture('results'), fixture('noise'));
    expect(c.regressionCount).toBe(0);
    const moved = c.scenarios.flatMap((s) => s.metrics).filter((m) => m.verdict !== 'within-tolerance' && m.verdict !== 'informational');
    expect(moved.length).toBeGreaterThan(0);
  });

  it('a known regression: slower creations and lower DB throughput are found, nothing else', () => {
    const v = verdicts(fixture('results'), fixture('regression'));
    expect(regressions(v)).toEqual([
      'family-creation:latency.p50',
      'family-creation:latency.p95',
      'family-creation:latency.p99',
      'db-query-performance:throughput',
    ]);
    // Moved 15% past the baseline by chance (another seed): noise, not a regression.
    expect(v.get('cache-coherence:latency.p99')).toBe('within-noise');
    // No samples for a point metric: flagged, never failing.
    expect(v.get('family-creation:throughput')).toBe('unverified');
  });

  it('the same change the other way is an improvement (direction comes from the metric)', () => {
    const v = verdicts(fixture('regression'), fixture('results'));
    expect(regressions(v)).toEqual([]);
    expect(v.get('family-creation:latency.p99')).toBe('improvement');
    expect(v.get('db-query-performance:throughput')).toBe('improvement');
  });

  it('a regression within the tolerance is not reported', () => {
    expect(regressions(verdicts(fixture('results'), fixture('regression'), 0.65))).toEqual([]);
  });

  it('correctness counts are exact: 0 -> 2 duplicates is a regression without any noise test', () => {
    const current = mutableFixture('noise');
    const s = current.scenarios.find((x) => x.id === 'family-creation');
    if (s === undefined) throw new Error('fixture lost family-creation');
    s.metrics['duplicates.ids'] = 2;
    const c = compareRuns(fixture('results'), current);
    const m = c.scenarios.find((x) => x.id === 'family-creation')?.metrics.find((x) => x.metric === 'duplicates.ids');
    expect(m).toMatchObject({ method: 'exact', verdict: 'regression', change: Infinity });
  });

  it('a scenario that passed and now fails counts as a regression; neutral metrics are never judged', () => {
    const current = mutableFixture('noise');
    const s = current.scenarios.find((x) => x.id === 'cache-coherence');
    if (s === undefined) throw new Error('fixture lost cache-coherence');
    s.status = 'failed';
    s.metrics.reads = 1;
    const c = compareRuns(fixture('results'), current);
    expect(c.regressionCount).toBe(1);
    const cc = c.scenarios.find((x) => x.id === 'cache-coherence');
    expect(cc?.statusRegressed).toBe(true);
    expect(cc?.metrics.find((m) => m.metric === 'reads')?.verdict).toBe('informational');
  });

  it('notes scenarios present on one side only and runs from other machines', () => {
    const current = mutableFixture('noise');
    current.scenarios = current.scenarios.filter((s) => s.id !== 'memory-gc');
    current.environment.cpu.logicalCores = 16;
    const c = compareRuns(fixture('results'), current);
    expect(c.onlyInBaseline).toEqual(['memory-gc']);
    expect(c.caveats.join()).toContain('machines differ');
  });
});

describe('noise statistics', () => {
  it('Mann-Whitney U matches a hand-computed case', () => {
    // a = 1,2,3 ; b = 4,5,6: every b above every a, U_b = 9, z = (9 - 4.5) / sqrt(3*3*7/12).
    const r = mannWhitney([1, 2, 3], [4, 5, 6]);
    expect(r.u).toBe(9);
    expect(r.z).toBeCloseTo(4.5 / Math.sqrt(63 / 12), 10);
    expect(mannWhitney([1, 2, 3], [1, 2, 3]).p).toBeCloseTo(1, 6);
  });

  it('the normal CDF is accurate', () => {
    expect(normalCdf(0)).toBeCloseTo(0.5, 7);
    expect(normalCdf(1.959964)).toBeCloseTo(0.975, 6);
    expect(normalCdf(-2.326348)).toBeCloseTo(0.01, 6);
  });

  it("Holm's correction keeps only what survives the step-down", () => {
    expect(holm([0.01, null, 0.04, 0.03])).toEqual([true, null, false, false]);
    expect(holm([0.001, 0.02, 0.04])).toEqual([true, true, true]);
    expect(holm([0.02, 0.02, 0.02])).toEqual([false, false, false]);
  });
});

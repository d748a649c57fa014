import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/exit-codes.ts';
import { planRun } from '../../src/runner/plan.ts';
import type { PlanRequest } from '../../src/runner/plan.ts';
import type { CatalogEntry } from '../../src/scenario/catalog.ts';
import type { ScenarioDefinition, ScenarioGroup } from '../../src/scenario/definition.ts';

function scenario(id: string, group: ScenarioGroup, thresholds: string[]): CatalogEntry {
  const definition: ScenarioDefinition = {
    id,
    group,
    title: id,
    objective: id,
    profiles: { smoke: { n: 1 }, standard: { n: 10 }, soak: { n: 100 } },
    metrics: [
      { name: 'latency.p95', dimension: 'duration', description: 'p95' },
      { name: 'duplicates', dimension: 'count', description: 'dups' },
    ],
    thresholds,
    describe: () => id,
    run: () => Promise.reject(new Error('not run in plan tests')),
  };
  return { definition, file: `${id}.ts` };
}

const catalog = [
  scenario('alpha', 'concurrency', ['latency.p95 < 100ms', 'duplicates == 0']),
  scenario('beta', 'concurrency', []),
  scenario('gamma', 'scalability', ['latency.p95 < 1s']),
];
const base: PlanRequest = { catalog, suite: 'all', scenarioIds: [], profile: 'standard', thresholdArgs: [] };

describe('planRun', () => {
  it('selects by suite, in catalog order, with the profile parameters', () => {
    expect(planRun(base).map((p) => p.definition.id)).toEqual(['alpha', 'beta', 'gamma']);
    expect(planRun({ ...base, suite: 'scalability' }).map((p) => p.definition.id)).toEqual(['gamma']);
    expect(planRun({ ...base, profile: 'smoke' })[0]?.params).toEqual({ n: 1 });
  });

  it('explicit --scenario ids win over the suite, once each', () => {
    expect(planRun({ ...base, suite: 'scalability', scenarioIds: ['beta', 'alpha', 'beta'] }).map((p) => p.definition.id)).toEqual(['beta', 'alpha']);
  });

  it('an override replaces the default threshold on the same metric and keeps the others', () => {
    const [alpha] = planRun({ ...base, scenarioIds: ['alpha'], thresholdArgs: ['alpha:latency.p95 < 20ms'] });
    expect(alpha?.thresholds.map((t) => [t.metric, t.value])).toEqual([
      ['duplicates', 0],
      ['latency.p95', 20],
    ]);
  });

  it('thresholds from a file apply per scenario', () => {
    const [, , gamma] = planRun({ ...base, thresholdFile: { gamma: ['latency.p95 <= 2s', 'duplicates == 0'] } });
    expect(gamma?.thresholds.map((t) => t.source)).toEqual(['latency.p95 <= 2s', 'duplicates == 0']);
  });

  it.each([
    [{ scenarioIds: ['nope'] }, /unknown scenario 'nope'; known scenarios: alpha, beta, gamma/],
    [{ thresholdArgs: ['latency.p95 < 5ms'] }, /names no scenario/],
    [{ thresholdArgs: ['nope:latency.p95 < 5ms'] }, /unknown scenario 'nope'/],
    [{ thresholdArgs: ['alpha:throughput > 5/s'] }, /unknown metric 'throughput'/],
    [{ thresholdArgs: ['alpha:latency.p95 < 5'] }, /give a unit/],
    [{ thresholdFile: { alpha: ['beta:duplicates == 0'] } }, /names scenario 'beta' but is given for 'alpha'/],
    [{ thresholdFile: { alpha: ["duplicates = 0"] } }, /--thresholds file: .*no comparison operator/],
  ] as const)('rejects %j before anything runs', (change, message) => {
    expect(() => planRun({ ...base, ...change })).toThrow(UsageError);
    expect(() => planRun({ ...base, ...change })).toThrow(message);
  });
});

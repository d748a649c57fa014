/** Turns the per-count results of the scaling search into checks, metrics, tables, series and notes. */
import type { Check, LoadRunSummary, SeriesPoint } from '../../src/scenario/definition.ts';
import type { MetricSpec } from '../../src/thresholds/bind.ts';
import { efficiency } from './scaling-measure.ts';
import type { CountResult, StepFigures } from './scaling-measure.ts';

/** Instance counts metrics are declared for (every profile stays within it). */
export const MAX_REPORTED_INSTANCES = 5;

export const SCALING_METRIC_SPECS: readonly MetricSpec[] = [
  ...Array.from({ length: MAX_REPORTED_INSTANCES }, (_, i): MetricSpec => ({
    name: `throughput.n${i + 1}`,
    dimension: 'rate',
    description: `2xx responses per second at the highest sustainable rate with ${i + 1} instance${i === 0 ? '' : 's'}`,
  })),
  ...Array.from({ length: MAX_REPORTED_INSTANCES - 1 }, (_, i): MetricSpec => ({
    name: `efficiency.n${i + 2}`,
    dimension: 'ratio',
    description: `throughput(${i + 2}) / (${i + 2} x throughput(1)): 100% is linear scaling`,
  })),
  { name: 'success.rate', dimension: 'ratio', description: 'lowest 2xx share among the accepted steps (dropped requests count as failures)' },
  { name: 'latency.p99', dimension: 'duration', description: 'highest corrected p99 among the accepted steps (at most the objective)' },
  { name: 'search.steps', dimension: 'count', description: 'load steps the search ran, over all instance counts' },
];

export interface ScalingJudgement {
  readonly minSuccess: number;
  readonly minEfficiencyAt2: number;
  readonly objectiveMs: number;
}

/** Metric values: only what was measured (a count without a sustainable rate reports none). */
export function scalingMetrics(results: readonly CountResult[]): Record<string, number> {
  const metrics: Record<string, number> = { 'search.steps': results.reduce((s, r) => s + r.search.steps.length, 0) };
  const t1 = throughputOf(results, 1);
  const accepted = results.flatMap((r) => (r.search.best === null ? [] : [r.search.best.outcome]));
  if (accepted.length > 0) {
    metrics['success.rate'] = Math.min(...accepted.map((f) => f.successRate));
    const p99s = accepted.flatMap((f) => (f.p99Ms === null ? [] : [f.p99Ms]));
    if (p99s.length > 0) metrics['latency.p99'] = Math.max(...p99s);
  }
  for (const r of results) {
    if (r.instances > MAX_REPORTED_INSTANCES || r.search.best === null) continue;
    metrics[`throughput.n${r.instances}`] = r.search.best.outcome.throughput;
    const e = efficiency(r.search.best.outcome.throughput, r.instances, t1);
    if (r.instances > 1 && e !== null) metrics[`efficiency.n${r.instances}`] = e;
  }
  return metrics;
}

/** The checks: a sustainable rate at every count, success at every count, efficiency with 2 instances. */
export function scalingChecks(results: readonly CountResult[], j: ScalingJudgement): Check[] {
  const missing = results.filter((r) => r.search.best === null);
  const checks: Check[] = [
    {
      name: `a sustainable rate (p99 <= ${j.objectiveMs} ms, generator unsaturated) found at every instance count`,
      expected: results.length,
      actual: results.length - missing.length,
      passed: missing.length === 0,
      ...(missing.length === 0 ? {} : { detail: missing.map((r) => `n=${r.instances}: ${r.search.steps.map(describeStep).join('; ')}`).join(' | ') }),
    },
  ];
  const low = results.filter((r) => r.search.best !== null && r.search.best.outcome.successRate < j.minSuccess);
  const lowest = Math.min(...results.map((r) => r.search.best?.outcome.successRate ?? 0));
  checks.push({
    name: `success rate >= ${pct(j.minSuccess)} at every instance count`,
    expected: `>= ${pct(j.minSuccess)}`,
    actual: pct(lowest),
    passed: low.length === 0 && missing.length === 0,
    ...(low.length === 0 ? {} : { detail: low.map((r) => `n=${r.instances}: ${JSON.stringify(r.search.best?.outcome.statusCounts)}`).join(' | ') }),
  });
  const two = results.find((r) => r.instances === 2);
  if (two !== undefined) {
    const e = efficiency(two.search.best?.outcome.throughput ?? null, 2, throughputOf(results, 1));
    checks.push({
      name: `scaling efficiency with 2 instances >= ${pct(j.minEfficiencyAt2)}`,
      expected: `>= ${pct(j.minEfficiencyAt2)}`,
      actual: e === null ? 'not measured' : pct(e),
      passed: e !== null && e >= j.minEfficiencyAt2,
      ...(e !== null && e >= j.minEfficiencyAt2
        ? {}
        : { detail: `throughput n=1 ${fmt(throughputOf(results, 1))}/s, n=2 ${fmt(two.search.best?.outcome.throughput ?? null)}/s (limited by ${two.limitedBy})` }),
    });
  }
  return checks;
}

/** One row per instance count. */
export function scalingTable(results: readonly CountResult[]): Record<string, string | number | boolean | null>[] {
  const t1 = throughputOf(results, 1);
  return results.map((r) => {
    const best = r.search.best?.outcome ?? null;
    const e = efficiency(best?.throughput ?? null, r.instances, t1);
    return {
      instances: r.instances,
      sustainableRate: r.search.best?.rate ?? null,
      throughput: best === null ? null : round(best.throughput),
      perInstance: best === null ? null : round(best.throughput / r.instances),
      p99Ms: best?.p99Ms ?? null,
      successRate: best === null ? null : round(best.successRate),
      efficiency: e === null ? null : round(e),
      limitedBy: r.limitedBy,
      steps: r.search.steps.length,
      perNode: best === null ? null : Object.entries(best.instanceCounts).map(([id, n]) => `${id}:${n}`).join(' '),
    };
  });
}

/** Every step of every search (and each warm-up), in order: the search is part of the result. */
export function searchTable(results: readonly CountResult[], judge: (f: StepFigures) => string): Record<string, string | number | boolean | null>[] {
  return results.flatMap((r) => [
    { instances: r.instances, step: 'warm-up', ...stepRow(r.warmup, judge), accepted: false },
    ...r.search.steps.map((s, i) => ({ instances: r.instances, step: i + 1, ...stepRow(s.outcome, judge), accepted: s === r.search.best })),
  ]);
}

/** Throughput against instance count, with the linear ideal beside it. */
export function scalingSeries(results: readonly CountResult[]): SeriesPoint[] {
  const t1 = throughputOf(results, 1);
  return results.flatMap((r) => {
    const best = r.search.best?.outcome;
    if (best === undefined) return [];
    return [{ x: r.instances, throughput: round(best.throughput), perInstance: round(best.throughput / r.instances), ...(t1 === null ? {} : { linear: round(t1 * r.instances) }) }];
  });
}

/** Runs whose numbers the scenario uses or that ran unsaturated; saturated probes are search ceilings, listed in the search table. */
export function reportedLoadRuns(results: readonly CountResult[]): { runs: LoadRunSummary[]; saturatedProbes: StepFigures[] } {
  const all = results.flatMap((r) => [r.warmup, ...r.search.steps.map((s) => s.outcome)]);
  return { runs: all.filter((f) => !f.saturated).map((f) => f.summary), saturatedProbes: all.filter((f) => f.saturated) };
}

export function throughputOf(results: readonly CountResult[], instances: number): number | null {
  return results.find((r) => r.instances === instances)?.search.best?.outcome.throughput ?? null;
}

function stepRow(f: StepFigures, judge: (f: StepFigures) => string): Record<string, string | number | boolean | null> {
  return {
    rate: f.summary.targetRate === null ? null : round(f.summary.targetRate),
    achieved: round(f.summary.achievedRate),
    throughput: round(f.throughput),
    p99Ms: f.p99Ms,
    successRate: round(f.successRate),
    saturated: f.saturated,
    verdict: judge(f),
  };
}

function describeStep(s: { rate: number; outcome: StepFigures }): string {
  const f = s.outcome;
  const why = f.saturated ? `generator saturated (${f.saturationReasons.join(', ')})` : `p99 ${fmt(f.p99Ms)} ms, success ${pct(f.successRate)}`;
  return `${s.rate}/s: ${why}`;
}

function pct(x: number): string {
  return `${round(x * 100)}%`;
}

function fmt(x: number | null): string {
  return x === null ? 'none' : String(round(x));
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}

/** Metrics, checks and the condition table of the resource-constraints scenario. */
import type { LoadResult } from '../../src/load/index.ts';
import { summarizeEncoded } from '../../src/measure/summary.ts';
import type { Check, ScenarioOutput } from '../../src/scenario/definition.ts';
import { summarizeLoadRun } from '../../src/scenario/load-summary.ts';
import type { MetricSpec } from '../../src/thresholds/bind.ts';
import type { PressureParams } from '../scalability/resource-constraints.ts';

export const CONDITIONS = ['baseline', 'memory', 'cpu'] as const;
export type Condition = (typeof CONDITIONS)[number];
/** 5xx statuses quoted as evidence in a failed check. */
const EVIDENCE = 3;

export interface ConditionRun {
  readonly condition: Condition;
  readonly pressure: string;
  readonly result: LoadResult;
  readonly alive: { alive: boolean; detail: string };
  /** GC pauses of the target during the run (all kinds), from its metrics; null when it was not readable after. */
  readonly gc: { count: number; pauseMs: number } | null;
  readonly heapTotalBytes: number | null;
}

const RATIOS = ['p50_ratio', 'p99_ratio', 'throughput_ratio'] as const;

export const PRESSURE_METRIC_SPECS: readonly MetricSpec[] = CONDITIONS.flatMap((c): MetricSpec[] => [
  { name: `${c}.latency.p50`, dimension: 'duration', description: `median latency (${c})` },
  { name: `${c}.latency.p99`, dimension: 'duration', description: `p99 latency (${c})` },
  { name: `${c}.throughput`, dimension: 'rate', description: `responses per second (${c})` },
  { name: `${c}.success_rate`, dimension: 'ratio', description: `requests answered 2xx (${c})` },
  { name: `${c}.errors_5xx_rate`, dimension: 'ratio', description: `requests answered 5xx or not at all (${c})` },
  { name: `${c}.gc.count`, dimension: 'count', description: `target GC pauses during the run (${c})` },
  { name: `${c}.gc.pause_total`, dimension: 'duration', description: `target GC pause time during the run (${c})` },
  ...(c === 'baseline' ? [] : RATIOS.map((r): MetricSpec => ({ name: `${c}.${r}`, dimension: 'count', description: `${r.replace('_ratio', '')} under ${c} pressure over baseline` }))),
]);

interface Figures {
  readonly p50: number | null;
  readonly p99: number | null;
  readonly throughput: number;
  readonly success: number;
  readonly failed5xx: number;
  readonly statuses5xx: string;
}

function figures(r: LoadResult): Figures {
  const summary = r.latency.uncorrected === null ? null : summarizeEncoded(r.latency.uncorrected);
  const count = (pred: (status: string) => boolean): number => Object.entries(r.statusCounts).reduce((n, [s, c]) => n + (pred(s) ? c : 0), 0);
  const total = r.completed;
  const ok = count((s) => s.startsWith('2'));
  // A request with no answer (reset, timeout) counts with the 5xx: the service did not serve it.
  const failed5xx = count((s) => s.startsWith('5')) + r.errors;
  return {
    p50: summary?.p50 ?? null,
    p99: summary?.p99 ?? null,
    throughput: r.durationMs === 0 ? 0 : (total / r.durationMs) * 1000,
    success: total === 0 ? 0 : ok / total,
    failed5xx: total === 0 ? 1 : failed5xx / total,
    statuses5xx: Object.entries(r.statusCounts).filter(([s]) => s.startsWith('5')).slice(0, EVIDENCE).map(([s, n]) => `${s} x${n}`).join(', '),
  };
}

const ratio = (a: number | null, b: number | null): number | null => (a === null || b === null || b === 0 ? null : a / b);
const round = (n: number | null, digits = 3): number | null => (n === null ? null : Math.round(n * 10 ** digits) / 10 ** digits);

/** The scenario's output from its condition runs. */
export function reportPressure(input: { p: PressureParams; runs: readonly ConditionRun[]; warmUps: readonly { condition: string; result: LoadResult }[]; notes: readonly string[] }): ScenarioOutput {
  const { p, runs, notes } = input;
  const base = runs.find((r) => r.condition === 'baseline');
  const baseFig = base === undefined ? null : figures(base.result);
  const metrics: Record<string, number> = {};
  const checks: Check[] = [];
  const rows = runs.map((run) => {
    const f = figures(run.result);
    const c = run.condition;
    const put = (name: string, v: number | null): void => {
      if (v !== null) metrics[`${c}.${name}`] = v;
    };
    put('latency.p50', f.p50);
    put('latency.p99', f.p99);
    put('throughput', f.throughput);
    put('success_rate', f.success);
    put('errors_5xx_rate', f.failed5xx);
    put('gc.count', run.gc?.count ?? null);
    put('gc.pause_total', run.gc?.pauseMs ?? null);
    const ratios = {
      p50_ratio: ratio(f.p50, baseFig?.p50 ?? null),
      p99_ratio: ratio(f.p99, baseFig?.p99 ?? null),
      throughput_ratio: ratio(f.throughput, baseFig?.throughput ?? null),
    };
    if (c !== 'baseline') for (const r of RATIOS) put(r, ratios[r]);
    checks.push(
      {
        name: `${c}: success rate`,
        expected: `>= ${p.minSuccessRate * 100}%`,
        actual: `${round(f.success * 100, 2)}%`,
        passed: f.success >= p.minSuccessRate,
        ...(f.success >= p.minSuccessRate ? {} : { detail: `${run.result.completed} requests, statuses ${JSON.stringify(run.result.statusCounts)} under ${run.pressure}` }),
      },
      {
        name: `${c}: 5xx and unanswered requests`,
        expected: `<= ${p.max5xxRate * 100}%`,
        actual: `${round(f.failed5xx * 100, 2)}%`,
        passed: f.failed5xx <= p.max5xxRate,
        ...(f.failed5xx <= p.max5xxRate ? {} : { detail: `${f.statuses5xx || 'no 5xx'}; ${run.result.errors} without answer${Object.values(run.result.errorSamples)[0] === undefined ? '' : ` (${Object.values(run.result.errorSamples)[0] ?? ''})`}` }),
      },
      { name: `${c}: target alive after the run`, expected: 'alive', actual: run.alive.alive ? 'alive' : 'down', passed: run.alive.alive, ...(run.alive.alive ? {} : { detail: run.alive.detail }) },
    );
    return {
      condition: c,
      pressure: run.pressure,
      p50Ms: f.p50,
      p99Ms: f.p99,
      throughput: round(f.throughput, 1),
      success: round(f.success, 4),
      errors5xx: round(f.failed5xx, 4),
      gcCount: run.gc?.count ?? null,
      gcPauseMs: round(run.gc?.pauseMs ?? null, 1),
      heapTotalMiB: round(run.heapTotalBytes === null ? null : run.heapTotalBytes / 1024 / 1024, 1),
      p50Ratio: c === 'baseline' ? null : round(ratios.p50_ratio, 2),
      p99Ratio: c === 'baseline' ? null : round(ratios.p99_ratio, 2),
      throughputRatio: c === 'baseline' ? null : round(ratios.throughput_ratio, 2),
    };
  });
  return {
    metrics,
    checks,
    ...(base?.result.latency.uncorrected ? { histograms: Object.fromEntries(runs.flatMap((r) => (r.result.latency.uncorrected === null ? [] : [[`${r.condition}.latency`, r.result.latency.uncorrected]]))) } : {}),
    // Warm-ups are left out: none of their figures is reported, so a generator that fell behind there taints no number.
    loadRuns: runs.map((r) => summarizeLoadRun(`${r.condition} (${r.pressure})`, r.result)),
    tables: { conditions: rows },
    notes: [
      'Closed model with a fixed request count: each condition does the same work, so throughput and latency ratios compare like with like. An open model at a rate the baseline sustains would hide the throughput loss as queueing.',
      `Each measured run followed ${p.warmUpRequests} unmeasured warm-up requests under the same condition (${input.warmUps.map((w) => `${w.condition}: ${w.result.completed} answered, ${w.result.errors} failed`).join('; ')}).`,
      ...notes,
    ],
  };
}

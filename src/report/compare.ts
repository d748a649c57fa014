/**
 * Baseline comparison: per scenario and metric, the change and a verdict that accounts for noise.
 * A metric regresses only when it moved the worse way by more than the tolerance AND the move is
 * larger than the run-to-run variation explains:
 * - latency percentiles backed by a saved histogram (`latency.p99` <- histogram `latency`): a
 *   bootstrap of the percentile difference (p-value from its standard error, 95% interval shown);
 * - metrics with per-interval samples (a series key of the same name in both runs): two-sided
 *   Mann-Whitney U;
 *   both p-values are corrected for the number of metrics tested (Holm, family-wise 5%): twenty
 *   metrics at 5% each would otherwise give a false alarm in most comparisons;
 * - correctness counts (violations, duplicates, ...): exact oracle counts, any change is real;
 * - anything else has no noise estimate: a move beyond tolerance is shown as `unverified`, never
 *   failing a run.
 */
import { decodeHistogram } from '../measure/histogram.ts';
import { SUMMARY_PERCENTILES } from '../measure/summary.ts';
import type { RunResults, ScenarioResult, ScenarioStatus } from '../results/schema.ts';
import type { Dimension } from '../thresholds/units.ts';
import { formatValue } from './format.ts';
import { metricKind, worseSign } from './metric-kind.ts';
import type { Direction } from './metric-kind.ts';
import { bootstrapPercentileDifference, mannWhitney, MIN_INTERVAL_SAMPLES, NOISE_ALPHA } from './noise-stats.ts';

/** A metric may get this much worse (relative, 0.1 = 10%) before a significant move is a regression. */
export const DEFAULT_REGRESSION_TOLERANCE = 0.1;

export type MetricVerdict = 'regression' | 'improvement' | 'within-noise' | 'within-tolerance' | 'unverified' | 'informational';
export type NoiseMethod = 'bootstrap' | 'mann-whitney' | 'exact' | 'none';

export interface MetricComparison {
  readonly metric: string;
  readonly dimension: Dimension;
  readonly direction: Direction;
  readonly baseline: number;
  readonly current: number;
  /** (current - baseline) / |baseline|; ±Infinity from a zero baseline; 0 when both are 0. */
  readonly change: number;
  readonly method: NoiseMethod;
  /** The test's raw p-value (null for exact counts and untested metrics). */
  readonly p: number | null;
  /** Whether the move is significant after the Holm correction (null: no test). */
  readonly significant: boolean | null;
  /** What the test saw, in words. */
  readonly evidence: string;
  readonly verdict: MetricVerdict;
}

export interface ScenarioComparison {
  readonly id: string;
  readonly title: string;
  readonly baselineStatus: ScenarioStatus;
  readonly currentStatus: ScenarioStatus;
  /** True when the scenario passed in the baseline and no longer does. */
  readonly statusRegressed: boolean;
  readonly metrics: readonly MetricComparison[];
}

export interface Comparison {
  readonly tolerance: number;
  readonly baseline: { readonly startedAt: string; readonly version: string; readonly profile: string };
  readonly current: { readonly startedAt: string; readonly version: string; readonly profile: string };
  readonly scenarios: readonly ScenarioComparison[];
  readonly onlyInBaseline: readonly string[];
  readonly onlyInCurrent: readonly string[];
  /** Why the two runs may not be comparable (other machine, other profile), one line each. */
  readonly caveats: readonly string[];
  /** Metric regressions plus scenarios that stopped passing. */
  readonly regressionCount: number;
}

/** Compares `current` against `baseline`; `tolerance` is relative (0.1 = 10%). */
export function compareRuns(baseline: RunResults, current: RunResults, tolerance: number = DEFAULT_REGRESSION_TOLERANCE): Comparison {
  if (!(tolerance >= 0)) throw new RangeError(`tolerance must be >= 0, got ${tolerance}`);
  const before = new Map(baseline.scenarios.map((s) => [s.id, s]));
  const tested: { scenario: ScenarioResult; then: ScenarioResult; metrics: Tested[] }[] = [];
  for (const now of current.scenarios) {
    const then = before.get(now.id);
    if (then !== undefined) tested.push({ scenario: now, then, metrics: testScenario(then, now) });
  }
  const significant = holm(tested.flatMap((t) => t.metrics.map((m) => m.p)));
  let index = 0;
  const scenarios: ScenarioComparison[] = tested.map(({ scenario, then, metrics }) => ({
    id: scenario.id,
    title: scenario.title,
    baselineStatus: then.status,
    currentStatus: scenario.status,
    statusRegressed: then.status === 'passed' && (scenario.status === 'failed' || scenario.status === 'errored'),
    metrics: metrics.map((m) => judge(m, significant[index++] ?? null, tolerance)),
  }));
  const currentIds = new Set(current.scenarios.map((s) => s.id));
  const regressionCount = scenarios.reduce(
    (n, s) => n + (s.statusRegressed ? 1 : 0) + s.metrics.filter((m) => m.verdict === 'regression').length,
    0,
  );
  return {
    tolerance,
    baseline: runInfo(baseline),
    current: runInfo(current),
    scenarios,
    onlyInBaseline: baseline.scenarios.filter((s) => !currentIds.has(s.id)).map((s) => s.id),
    onlyInCurrent: current.scenarios.filter((s) => !before.has(s.id)).map((s) => s.id),
    caveats: caveats(baseline, current),
    regressionCount,
  };
}

function runInfo(r: RunResults): Comparison['baseline'] {
  return { startedAt: r.startedAt, version: r.tool.version, profile: r.profile };
}

function caveats(a: RunResults, b: RunResults): string[] {
  const out: string[] = [];
  if (a.profile !== b.profile) out.push(`profiles differ (baseline ${a.profile}, current ${b.profile}): parameters and sample sizes are not the same`);
  const cpu = (r: RunResults): string => `${r.environment.cpu.brand} x${r.environment.cpu.logicalCores}`;
  if (cpu(a) !== cpu(b)) out.push(`machines differ (baseline ${cpu(a)}, current ${cpu(b)}): a change may be the machine's`);
  const store = (r: RunResults): string => r.target.store?.kind ?? r.target.kind;
  if (store(a) !== store(b)) out.push(`stores differ (baseline ${store(a)}, current ${store(b)})`);
  if (engines(a) !== engines(b)) {
    // Each result says what its latency spans (engine.latency.measures); one meaning means only the platform moved.
    const meanings = [...new Set([...a.scenarios, ...b.scenarios].map(latencyMeaning))];
    out.push(
      `engines differ (baseline ${engines(a)}, current ${engines(b)}): latency is ${meanings.join('; ')}` +
        (meanings.length > 1 ? ' — the same metric name measures different things' : ' in both, but the load came from elsewhere (another network path)'),
    );
  }
  return out;
}

function latencyMeaning(s: ScenarioResult): string {
  return s.engine === undefined ? "gauntlet's whole response from the intended send time" : `${s.engine.name}'s ${s.engine.latency.metric}, ${s.engine.latency.measures}`;
}

/** Who measured the run's scenarios: `gauntlet`, `artillery local`, ... */
function engines(r: RunResults): string {
  return [...new Set(r.scenarios.map((s) => (s.engine === undefined ? 'gauntlet' : `${s.engine.name} ${s.engine.platform}`)))].sort().join(', ');
}

type Tested = Omit<MetricComparison, 'significant' | 'verdict'>;

function testScenario(then: ScenarioResult, now: ScenarioResult): Tested[] {
  const out: Tested[] = [];
  for (const [metric, current] of Object.entries(now.metrics)) {
    const baseline = then.metrics[metric];
    if (baseline === undefined) continue;
    const { dimension, direction } = metricKind(metric, now);
    const change = current === baseline ? 0 : baseline === 0 ? Math.sign(current) * Infinity : (current - baseline) / Math.abs(baseline);
    const base = { metric, dimension, direction, baseline, current, change };
    if (worseSign(direction) === 0) out.push({ ...base, method: 'none', p: null, evidence: 'describes the load offered; not judged' });
    else out.push({ ...base, ...noiseTest(metric, dimension, direction, then, now) });
  }
  return out;
}

/** Holm's step-down correction at NOISE_ALPHA: which of the p-values stay significant (null where no test). */
export function holm(pValues: readonly (number | null)[]): (boolean | null)[] {
  const order = pValues
    .map((p, i) => ({ p, i }))
    .filter((x): x is { p: number; i: number } => x.p !== null)
    .sort((a, b) => a.p - b.p);
  const out: (boolean | null)[] = pValues.map(() => null);
  let rejecting = true;
  order.forEach(({ p, i }, rank) => {
    rejecting = rejecting && p <= NOISE_ALPHA / (order.length - rank);
    out[i] = rejecting;
  });
  return out;
}

function judge(m: Tested, tested: boolean | null, tolerance: number): MetricComparison {
  const sign = worseSign(m.direction);
  if (sign === 0) return { ...m, significant: null, verdict: 'informational' };
  const significant = m.method === 'exact' ? m.baseline !== m.current : tested;
  const worse = sign * m.change;
  const verdict: MetricVerdict = !(Math.abs(worse) > tolerance)
    ? 'within-tolerance'
    : significant === null
      ? 'unverified'
      : !significant
        ? 'within-noise'
        : worse > 0
          ? 'regression'
          : 'improvement';
  return { ...m, significant, verdict };
}

interface NoiseOutcome {
  readonly method: NoiseMethod;
  readonly p: number | null;
  readonly evidence: string;
}

function noiseTest(metric: string, dimension: Dimension, direction: Direction, then: ScenarioResult, now: ScenarioResult): NoiseOutcome {
  const percentile = histogramPercentile(metric, then, now);
  if (percentile !== null) {
    const boot = bootstrapPercentileDifference(decodeHistogram(percentile.baseline), decodeHistogram(percentile.current), percentile.percent);
    const fmt = (v: number): string => formatValue(v, 'duration');
    return {
      method: 'bootstrap',
      p: boot.p,
      evidence: `bootstrap of the p${percentile.label} difference: ${fmt(boot.difference)} ± ${fmt(boot.se)} (standard error), ${formatP(boot.p)}`,
    };
  }
  const samples = intervalSamples(metric, then, now);
  if (samples !== null) {
    const test = mannWhitney(samples.baseline, samples.current);
    return {
      method: 'mann-whitney',
      p: test.p,
      evidence: `Mann-Whitney U over ${samples.baseline.length} vs ${samples.current.length} intervals of '${samples.series}': ${formatP(test.p)}`,
    };
  }
  if (dimension === 'count' && direction === 'lower-is-better') {
    return { method: 'exact', p: null, evidence: 'an exact count from the oracle: any change is real' };
  }
  return { method: 'none', p: null, evidence: 'no per-interval samples or histogram saved for it: noise unknown' };
}

const PERCENTILE_SUFFIX = new Map<string, number>(Object.entries(SUMMARY_PERCENTILES));

/** `latency.p99` with a histogram `latency` saved in both runs -> the two encodings and 99. */
function histogramPercentile(metric: string, then: ScenarioResult, now: ScenarioResult): { baseline: string; current: string; percent: number; label: string } | null {
  const dot = metric.lastIndexOf('.');
  if (dot < 0) return null;
  const percent = PERCENTILE_SUFFIX.get(metric.slice(dot + 1));
  const name = metric.slice(0, dot);
  const baseline = then.histograms[name];
  const current = now.histograms[name];
  if (percent === undefined || baseline?.summary == null || current?.summary == null) return null;
  return { baseline: baseline.encoded, current: current.encoded, percent, label: metric.slice(dot + 2) };
}

/** Values of `metric` as a key of one series both runs saved, with enough points on each side. */
function intervalSamples(metric: string, then: ScenarioResult, now: ScenarioResult): { series: string; baseline: number[]; current: number[] } | null {
  for (const [series, points] of Object.entries(now.series)) {
    const before = then.series[series];
    if (before === undefined) continue;
    const current = points.map((p) => p[metric]).filter((v): v is number => typeof v === 'number');
    const baseline = before.map((p) => p[metric]).filter((v): v is number => typeof v === 'number');
    if (current.length >= MIN_INTERVAL_SAMPLES && baseline.length >= MIN_INTERVAL_SAMPLES) return { series, baseline, current };
  }
  return null;
}

function formatP(p: number): string {
  return p < 0.001 ? 'p < 0.001' : `p = ${p.toFixed(3)}`;
}

/**
 * Headline findings for the executive summary: one sentence each, every figure read from a named
 * field of the results (the `source` says which), none written by hand.
 */
import type { EngineInfo, RunResults, ScenarioResult } from '../results/schema.ts';
import { formatCount, formatDuration, formatPercent, formatRate } from './format.ts';
import { ENGINE_COUNT_METRICS, engineAccuracy, engineLatency, engineTitle } from './engine-view.ts';
import type { EngineLatency } from './engine-view.ts';
import { metricKind } from './metric-kind.ts';

export interface Finding {
  readonly text: string;
  /** The results fields the sentence reads, e.g. `scenarios[family-creation].histograms.latency.summary.p99`. */
  readonly source: string;
}

/** The headline findings of a run, most important first. */
export function headlineFindings(results: RunResults): Finding[] {
  const s = results.summary;
  const findings: Finding[] = [
    {
      text: `${s.passed} of ${s.total} scenarios passed, ${s.failed} failed, ${s.errored} errored, ${s.skipped} skipped.`,
      source: 'summary',
    },
  ];
  for (const scenario of results.scenarios) {
    const first = scenario.reasons[0];
    if (scenario.status !== 'passed' && first !== undefined) {
      findings.push({ text: `${scenario.title} ${scenario.status}: ${first}.`, source: `scenarios[${scenario.id}].reasons[0]` });
    }
  }
  const correctness = correctnessCounts(results.scenarios);
  if (correctness.checks > 0) {
    findings.push({
      text:
        correctness.failed === 0
          ? `All ${correctness.checks} correctness checks held under load.`
          : `${correctness.failed} of ${correctness.checks} correctness checks failed under load.`,
      source: 'scenarios[*].checks[*].passed',
    });
  }
  const slowest = maxBy(withLatency(results.scenarios), (x) => x.p99);
  if (slowest !== undefined) {
    findings.push({
      text: `Highest p99 latency: ${formatDuration(slowest.p99)} in ${slowest.title} (${formatCount(slowest.count)} requests, p50 ${formatDuration(slowest.p50)}).`,
      source: `scenarios[${slowest.id}].histograms.latency.summary`,
    });
  }
  const slowestTtfb = maxBy(engineLatencies(results.scenarios), (x) => x.p99);
  if (slowestTtfb !== undefined) {
    findings.push({
      text:
        `Highest p99 ${slowestTtfb.engine.latency.metric} measured by ${engineTitle(slowestTtfb.engine)}: ${formatDuration(slowestTtfb.p99)} in ${slowestTtfb.title} ` +
        `(${formatCount(slowestTtfb.count)} responses, p50 ${formatDuration(slowestTtfb.p50)}; ${engineAccuracy(slowestTtfb.engine)}).`,
      source: `scenarios[${slowestTtfb.id}].metrics.latency.p99`,
    });
  }
  const fastest = maxBy(throughputs(results.scenarios), (x) => x.value);
  if (fastest !== undefined) {
    findings.push({ text: `Highest throughput: ${formatRate(fastest.value)} in ${fastest.title}.`, source: `scenarios[${fastest.id}].metrics.${fastest.metric}` });
  }
  const offered = maxBy(offeredLoads(results.scenarios), (x) => x.value);
  if (offered !== undefined) {
    findings.push({
      text: `Highest request rate Artillery offered: ${formatRate(offered.value)} in ${offered.title} (${offered.metric}: requests it sent per second, not a throughput the target was shown to sustain).`,
      source: `scenarios[${offered.id}].metrics.${offered.metric}`,
    });
  }
  const errors = maxBy(errorRates(results.scenarios), (x) => x.value);
  if (errors !== undefined && errors.value > 0) {
    findings.push({ text: `Highest error rate: ${formatPercent(errors.value)} in ${errors.title}.`, source: `scenarios[${errors.id}].metrics.${errors.metric}` });
  }
  const saturated = results.scenarios.filter((x) => x.loadRuns.some((r) => r.saturated));
  if (saturated.length > 0) {
    findings.push({
      text: `The load generator fell behind its schedule in ${saturated.map((x) => x.title).join(', ')}: those figures measure gauntlet, not the target.`,
      source: 'scenarios[*].loadRuns[*].saturated',
    });
  }
  if (results.interrupted !== null) findings.push({ text: `The run was cut short: ${results.interrupted}.`, source: 'interrupted' });
  return findings;
}

function correctnessCounts(scenarios: readonly ScenarioResult[]): { checks: number; failed: number } {
  const checks = scenarios.flatMap((s) => s.checks);
  return { checks: checks.length, failed: checks.filter((c) => !c.passed).length };
}

interface Named {
  readonly id: string;
  readonly title: string;
}

/** Scenarios with a `latency` histogram summary. */
export function withLatency(scenarios: readonly ScenarioResult[]): (Named & { p50: number; p95: number; p99: number; count: number })[] {
  return scenarios.flatMap((s) => {
    const summary = s.histograms.latency?.summary;
    return summary == null ? [] : [{ id: s.id, title: s.title, p50: summary.p50, p95: summary.p95, p99: summary.p99, count: summary.count }];
  });
}

/** Every rate metric that is better higher (throughput), per scenario. */
export function throughputs(scenarios: readonly ScenarioResult[]): (Named & { metric: string; value: number })[] {
  return metricsWhere(scenarios, (name, s) => {
    const kind = metricKind(name, s);
    return kind.dimension === 'rate' && kind.direction === 'higher-is-better';
  });
}

/** Another engine's latency summary, per scenario that engine measured. */
function engineLatencies(scenarios: readonly ScenarioResult[]): (Named & EngineLatency & { engine: EngineInfo })[] {
  return scenarios.flatMap((s) => {
    const l = engineLatency(s);
    return l === null || s.engine === undefined ? [] : [{ ...l, id: s.id, title: s.title, engine: s.engine }];
  });
}

/** Another engine's request rate (requests it sent per second), per scenario that engine measured. */
export function offeredLoads(scenarios: readonly ScenarioResult[]): (Named & { metric: string; value: number })[] {
  return metricsWhere(scenarios.filter((s) => s.engine !== undefined), (name) => name === ENGINE_COUNT_METRICS.offeredRate);
}

/** Every ratio metric that is better lower and names errors. */
export function errorRates(scenarios: readonly ScenarioResult[]): (Named & { metric: string; value: number })[] {
  return metricsWhere(scenarios, (name, s) => metricKind(name, s).dimension === 'ratio' && /error/i.test(name));
}

function metricsWhere(scenarios: readonly ScenarioResult[], keep: (name: string, s: ScenarioResult) => boolean): (Named & { metric: string; value: number })[] {
  return scenarios.flatMap((s) =>
    Object.entries(s.metrics)
      .filter(([name]) => keep(name, s))
      .map(([metric, value]) => ({ id: s.id, title: s.title, metric, value })),
  );
}

function maxBy<T>(items: readonly T[], key: (item: T) => number): T | undefined {
  let best: T | undefined;
  for (const item of items) if (best === undefined || key(item) > key(best)) best = item;
  return best;
}

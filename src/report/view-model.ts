/**
 * results.json (and optionally a baseline comparison) -> the report's view model: every figure the
 * templates print is a field of the results or derived here by a named function. Templates format.
 */
import { failingTrends } from '../measure/resource-trend.ts';
import type { ResourceTrend } from '../measure/resource-trend.ts';
import type { ResourceTrends, RunResults, ScenarioResult } from '../results/schema.ts';
import { SCENARIO_GROUP_TITLES, SCENARIO_GROUPS } from '../scenario/definition.ts';
import type { LoadRunSummary } from '../scenario/definition.ts';
import type { Comparison } from './compare.ts';
import { comparisonView } from './comparison-view.ts';
import type { ComparisonView } from './comparison-view.ts';
import { engineLines, engineRequestCounts } from './engine-view.ts';
import { headlineFindings } from './findings.ts';
import type { Finding } from './findings.ts';
import { metricKind } from './metric-kind.ts';
import { recommendations } from './recommendations.ts';
import type { Recommendation } from './recommendations.ts';
import { formatBytes, formatPercent, significant } from './format.ts';
import { FAIL_ICON, latencyRows, NOT_MEASURED_ICON, PASS_ICON, scenarioView, STATUS_ICONS } from './scenario-view.ts';
import type { LatencyRow, MetricCell, ScenarioView } from './scenario-view.ts';


export interface FailureLine {
  readonly scenarioId: string;
  readonly title: string;
  readonly icon: string;
  readonly reason: string;
}

export interface ReportView {
  readonly status: { readonly label: string; readonly icon: string; readonly exitCode: number };
  readonly run: {
    readonly startedAt: string;
    readonly finishedAt: string;
    readonly durationMs: number;
    readonly profile: string;
    readonly suite: string;
    readonly version: string;
    readonly interrupted: string | null;
  };
  readonly summary: RunResults['summary'];
  readonly failures: readonly FailureLine[];
  readonly findings: readonly Finding[];
  readonly groups: readonly { readonly title: string; readonly scenarios: readonly ScenarioView[] }[];
  readonly scenarios: readonly ScenarioView[];
  readonly benchmarks: {
    readonly latency: readonly (LatencyRow & { readonly title: string })[];
    readonly throughput: readonly (LoadRunSummary & { readonly title: string })[];
    readonly resources: readonly (MetricCell & { readonly title: string })[];
  };
  /**
   * Notes of gauntlet-measured scenarios only: another engine's notes (what it measures, what did not
   * export) stay in the scenario's own section, and the engine is described once (environment.engines).
   */
  readonly scalability: { readonly logicalCores: number; readonly scenarios: readonly ScenarioView[]; readonly notes: readonly { readonly title: string; readonly note: string }[] };
  /** The reliability group's scenarios (faults injected on purpose), and every scenario's correctness tally. */
  readonly reliability: { readonly scenarios: readonly ScenarioView[]; readonly rows: readonly ReliabilityRow[] };
  /** Memory and open FDs over the whole run; null for files written before they were sampled. */
  readonly resources: ResourceTrendsView | null;
  readonly recommendations: readonly Recommendation[];
  readonly environment: EnvironmentView;
  readonly comparison: ComparisonView | null;
}

export interface ReliabilityRow {
  readonly icon: string;
  readonly title: string;
  readonly checksPassed: number;
  readonly checksTotal: number;
  /** Requests the scenario's load runs (or its engine) sent and saw fail; null when it recorded neither. */
  readonly sent: number | null;
  readonly errors: number | null;
  readonly errorRate: MetricCell | null;
  readonly violations: readonly MetricCell[];
}

export interface ResourceTrendsView {
  readonly enforced: boolean;
  /** The intervals' confidence level, as a fraction. */
  readonly confidence: number;
  readonly intervalMs: number;
  readonly rows: readonly {
    readonly icon: string;
    readonly process: string;
    readonly resource: string;
    readonly slope: string;
    readonly ci: string;
    readonly bound: string;
    readonly verdict: string;
    readonly samples: number;
    readonly segments: number;
  }[];
  readonly unavailable: readonly string[];
}

export interface EnvironmentView {
  readonly cpu: string;
  readonly physicalCores: number;
  readonly logicalCores: number;
  readonly speedGHz: number | null;
  readonly memoryBytes: number;
  readonly os: string;
  readonly node: string;
  readonly target: string;
  readonly store: string;
  readonly storeReason: string | null;
  /** Who measured what, one line per engine; empty when gauntlet's own generators measured everything. */
  readonly engines: readonly string[];
}

/** Builds the report's view model from a run's results and, when given, its comparison with a baseline. */
export function buildReportView(results: RunResults, comparison: Comparison | null = null): ReportView {
  const scenarios = results.scenarios.map(scenarioView);
  const regressed = comparison !== null && comparison.regressionCount > 0;
  const failed = results.exitCode !== 0 || regressed;
  return {
    status: { label: failed ? 'FAILED' : 'PASSED', icon: failed ? FAIL_ICON : PASS_ICON, exitCode: results.exitCode },
    run: {
      startedAt: results.startedAt,
      finishedAt: results.finishedAt,
      durationMs: results.durationMs,
      profile: results.profile,
      suite: results.selection.suite,
      version: results.tool.version,
      interrupted: results.interrupted,
    },
    summary: results.summary,
    failures: [...failureLines(results.scenarios), ...trendFailureLines(results.resources)],
    findings: headlineFindings(results),
    groups: groupsOf(scenarios),
    scenarios,
    benchmarks: {
      latency: results.scenarios.flatMap((s) => latencyRows(s).map((row) => ({ ...row, title: s.title }))),
      throughput: results.scenarios.flatMap((s) => s.loadRuns.map((r) => ({ ...r, title: s.title }))),
      resources: results.scenarios.flatMap((s) => resourceMetrics(s)),
    },
    scalability: {
      logicalCores: results.environment.cpu.logicalCores,
      scenarios: scenarios.filter((s) => s.group === 'scalability'),
      notes: results.scenarios.filter((s) => s.group === 'scalability' && s.engine === undefined).flatMap((s) => s.notes.map((note) => ({ title: s.title, note }))),
    },
    reliability: { scenarios: scenarios.filter((s) => s.group === 'reliability'), rows: results.scenarios.map(reliabilityRow) },
    resources: results.resources === undefined ? null : resourceTrendsView(results.resources),
    recommendations: recommendations(results),
    environment: environmentView(results),
    comparison: comparison === null ? null : comparisonView(comparison),
  };
}

function failureLines(scenarios: readonly ScenarioResult[]): FailureLine[] {
  return scenarios
    .filter((s) => s.status === 'failed' || s.status === 'errored')
    .flatMap((s) => s.reasons.map((reason) => ({ scenarioId: s.id, title: s.title, icon: STATUS_ICONS[s.status], reason })));
}

const TREND_LABELS = { gauntlet: 'gauntlet', target: 'target (all its processes)', rss: 'RSS', fds: 'open FDs' } as const;

function perMinute(value: number, resource: ResourceTrend['resource']): string {
  const sign = value < 0 ? '−' : '+';
  return `${sign}${resource === 'rss' ? formatBytes(Math.abs(value)) : significant(Math.abs(value))}/min`;
}

function resourceTrendsView(resources: ResourceTrends): ResourceTrendsView {
  return {
    enforced: resources.enforced,
    confidence: resources.confidence,
    intervalMs: resources.intervalMs,
    rows: resources.trends.map((t) => ({
      icon: t.verdict === 'growing' ? (resources.enforced ? FAIL_ICON : NOT_MEASURED_ICON) : t.verdict === 'flat' ? PASS_ICON : NOT_MEASURED_ICON,
      process: TREND_LABELS[t.process],
      resource: TREND_LABELS[t.resource],
      slope: t.slopePerMinute === null ? '—' : perMinute(t.slopePerMinute, t.resource),
      ci: t.ci === null ? (t.reason ?? '—') : `[${perMinute(t.ci.low, t.resource)}, ${perMinute(t.ci.high, t.resource)}]`,
      bound: perMinute(t.flatBoundPerMinute, t.resource),
      verdict: t.verdict,
      samples: t.samples,
      segments: t.segments,
    })),
    unavailable: resources.unavailable,
  };
}

function trendFailureLines(resources: ResourceTrends | undefined): FailureLine[] {
  if (resources === undefined) return [];
  return failingTrends(resources).map((t) => ({
    scenarioId: 'run',
    title: `${TREND_LABELS[t.process]} ${TREND_LABELS[t.resource]}`,
    icon: FAIL_ICON,
    reason: `grew ${t.slopePerMinute === null ? '' : perMinute(t.slopePerMinute, t.resource)} over the run (its ${formatPercent(resources.confidence)} interval excludes 0 and the slope exceeds ${perMinute(t.flatBoundPerMinute, t.resource)})`,
  }));
}

function groupsOf(scenarios: readonly ScenarioView[]): { title: string; scenarios: ScenarioView[] }[] {
  return SCENARIO_GROUPS
    .map((g) => ({ title: SCENARIO_GROUP_TITLES[g], scenarios: scenarios.filter((s) => s.group === g) }))
    .filter((g) => g.scenarios.length > 0);
}

function resourceMetrics(s: ScenarioResult): (MetricCell & { title: string })[] {
  return Object.entries(s.metrics)
    .map(([name, value]) => ({ name, value, dimension: metricKind(name, s).dimension, title: s.title }))
    .filter((m) => m.dimension === 'bytes' || /cpu|gc|event.?loop|(^|[._])fds?([._]|$)|socket|pool/i.test(m.name));
}

function reliabilityRow(s: ScenarioResult): ReliabilityRow {
  const cells = Object.entries(s.metrics).map(([name, value]) => ({ name, value, ...metricKind(name, s) }));
  const errorRate = cells.find((c) => c.dimension === 'ratio' && /error/i.test(c.name));
  const engine = engineRequestCounts(s);
  return {
    icon: s.status === 'skipped' || s.status === 'errored' ? STATUS_ICONS[s.status] : s.checks.every((c) => c.passed) ? PASS_ICON : FAIL_ICON,
    title: s.title,
    checksPassed: s.checks.filter((c) => c.passed).length,
    checksTotal: s.checks.length,
    sent: engine?.sent ?? (s.loadRuns.length === 0 ? null : s.loadRuns.reduce((n, r) => n + r.sent, 0)),
    errors: engine?.errors ?? (s.loadRuns.length === 0 ? null : s.loadRuns.reduce((n, r) => n + r.errors, 0)),
    errorRate: errorRate === undefined ? null : { name: errorRate.name, value: errorRate.value, dimension: errorRate.dimension },
    violations: cells
      .filter((c) => c.dimension === 'count' && c.direction === 'lower-is-better')
      .map((c) => ({ name: c.name, value: c.value, dimension: c.dimension })),
  };
}

function environmentView(results: RunResults): EnvironmentView {
  const e = results.environment;
  return {
    cpu: `${e.cpu.manufacturer} ${e.cpu.brand}`.trim(),
    physicalCores: e.cpu.physicalCores,
    logicalCores: e.cpu.logicalCores,
    speedGHz: e.cpu.speedGHz,
    memoryBytes: e.memory.totalBytes,
    os: `${e.os.distro} ${e.os.release} (${e.os.platform} ${e.os.kernel}, ${e.os.arch})`,
    node: `${e.node.version} (${e.node.arch})`,
    target: `${results.target.kind} ${results.target.url}`,
    store: results.target.store?.kind ?? 'external (not known to gauntlet)',
    storeReason: results.target.store?.reason ?? null,
    engines: engineLines(results),
  };
}

/** The per-scenario part of the report's view model: plain data the templates print as they are. */
import type { ScenarioResult, ScenarioStatus } from '../results/schema.ts';
import type { LoadRunSummary } from '../scenario/definition.ts';
import type { Dimension } from '../thresholds/units.ts';
import { scenarioCharts } from './charts.ts';
import type { ChartView } from './charts.ts';
import { engineLatency, engineLatencyLabel } from './engine-view.ts';
import { metricKind } from './metric-kind.ts';

/** Status marks: a failure is visible at a glance. */
export const STATUS_ICONS: Readonly<Record<ScenarioStatus, string>> = { passed: '✅', failed: '❌', errored: '💥', skipped: '⏭️' };
export const PASS_ICON = '✅';
export const FAIL_ICON = '❌';
export const NOT_MEASURED_ICON = '⚠️';

export interface MetricCell {
  readonly name: string;
  readonly value: number;
  readonly dimension: Dimension;
}

export interface ThresholdRow {
  readonly icon: string;
  readonly source: string;
  readonly metric: string;
  readonly op: string;
  readonly expected: number;
  readonly actual: number | null;
  readonly dimension: Dimension;
  readonly state: string;
}

export interface CheckRow {
  readonly icon: string;
  readonly name: string;
  readonly expected: string | number;
  readonly actual: string | number;
  readonly detail: string | null;
}

export interface LatencyRow {
  readonly scenarioId: string;
  readonly name: string;
  readonly count: number;
  readonly mean: number;
  readonly p50: number;
  readonly p90: number;
  readonly p95: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
}

export interface TableView {
  readonly name: string;
  readonly columns: readonly string[];
  readonly rows: readonly (readonly (string | number | boolean | null)[])[];
}

export interface ScenarioView {
  readonly id: string;
  readonly title: string;
  readonly group: string;
  readonly status: ScenarioStatus;
  readonly icon: string;
  readonly objective: string;
  readonly executed: string;
  readonly durationMs: number;
  readonly reasons: readonly string[];
  readonly params: readonly { readonly name: string; readonly value: string }[];
  readonly checks: readonly CheckRow[];
  readonly thresholds: readonly ThresholdRow[];
  readonly metrics: readonly MetricCell[];
  readonly latency: readonly LatencyRow[];
  readonly loadRuns: readonly LoadRunView[];
  readonly tables: readonly TableView[];
  readonly charts: readonly ChartView[];
  readonly chartsOmitted: number;
  readonly notes: readonly string[];
  /** gauntlet's own process over the scenario; null when it did not run or a figure is missing. */
  readonly harness: HarnessView | null;
}

export interface HarnessView {
  readonly rssBytes: number;
  readonly heapUsedBytes: number;
  readonly gcCount: number;
  readonly gcPauseMs: number;
  readonly loopDelayP99Ms: number;
}

/** Totals of the harness sample, or null when it lacks one of the figures shown. */
export function harnessView(s: ScenarioResult): HarnessView | null {
  const h = s.harness;
  if (h === null || h.rssBytes === null || h.heapUsedBytes === null || h.eventLoopLagP99Ms === null) return null;
  const kinds = Object.values(h.gc);
  return {
    rssBytes: h.rssBytes,
    heapUsedBytes: h.heapUsedBytes,
    gcCount: kinds.reduce((sum, k) => sum + k.count, 0),
    gcPauseMs: kinds.reduce((sum, k) => sum + k.pauseMs, 0),
    loopDelayP99Ms: h.eventLoopLagP99Ms,
  };
}

/** The view of one scenario result. */
export function scenarioView(s: ScenarioResult): ScenarioView {
  const { charts, omitted } = scenarioCharts(s);
  return {
    id: s.id,
    title: s.title,
    group: s.group,
    status: s.status,
    icon: STATUS_ICONS[s.status],
    objective: s.objective,
    executed: s.executed,
    durationMs: s.durationMs,
    harness: harnessView(s),
    reasons: s.reasons,
    params: Object.entries(s.params).map(([name, value]) => ({ name, value: Array.isArray(value) ? value.join(', ') : String(value) })),
    checks: s.checks.map((c) => ({
      icon: c.passed ? PASS_ICON : FAIL_ICON,
      name: c.name,
      expected: c.expected,
      actual: c.actual,
      detail: c.detail ?? null,
    })),
    thresholds: s.thresholds.map((t) => ({
      icon: t.state === 'passed' ? PASS_ICON : t.state === 'failed' ? FAIL_ICON : NOT_MEASURED_ICON,
      source: t.source,
      metric: t.metric,
      op: t.op,
      expected: t.expected,
      actual: t.actual,
      dimension: t.dimension,
      state: t.state,
    })),
    metrics: Object.entries(s.metrics).map(([name, value]) => ({ name, value, dimension: metricKind(name, s).dimension })),
    latency: latencyRows(s),
    loadRuns: s.loadRuns.map((r) => ({ ...r, errorsByKind: errorsByKind(r) })),
    tables: Object.entries(s.tables).map(([name, rows]) => tableView(name, rows)),
    charts,
    chartsOmitted: omitted,
    notes: s.notes,
  };
}

/**
 * One row per saved histogram that recorded anything; for another engine's result (which keeps no
 * histogram), one row of its latency summary, named for what it measures and how accurately.
 */
export function latencyRows(s: ScenarioResult): LatencyRow[] {
  const rows: LatencyRow[] = Object.entries(s.histograms).flatMap(([name, h]) =>
    h.summary === null
      ? []
      : [{ scenarioId: s.id, name, count: h.summary.count, mean: h.summary.mean, p50: h.summary.p50, p90: h.summary.p90, p95: h.summary.p95, p99: h.summary.p99, p999: h.summary.p999, max: h.summary.max }],
  );
  const engine = engineLatencyRow(s);
  return engine === null ? rows : [...rows, engine];
}

function engineLatencyRow(s: ScenarioResult): LatencyRow | null {
  const l = engineLatency(s);
  return l === null || s.engine === undefined ? null : { scenarioId: s.id, name: engineLatencyLabel(s.engine), ...l };
}

function tableView(name: string, rows: ScenarioResult['tables'][string]): TableView {
  const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  return { name, columns, rows: rows.map((r) => columns.map((c) => r[c] ?? null)) };
}

/** A load run as the report shows it: its errors also by kind (`refused 40, reset 17`). */
export type LoadRunView = LoadRunSummary & { readonly errorsByKind: string | null };

function errorsByKind(run: LoadRunSummary): string | null {
  const kinds = Object.entries(run.errorKinds ?? {}).filter(([, n]) => n > 0);
  return kinds.length === 0 ? null : kinds.map(([kind, n]) => `${kind} ${String(n)}`).join(', ');
}

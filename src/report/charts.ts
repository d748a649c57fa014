/**
 * Mermaid `xychart-beta` data from results: the latency percentile distribution (histogram
 * summaries), every series key over its x (time, batch, ...), and per-node tables as bars. Plain
 * data; the template only prints it.
 */
import { SUMMARY_PERCENTILES } from '../measure/summary.ts';
import type { HistogramResult, ScenarioResult } from '../results/schema.ts';
import { dimensionFromName } from './metric-kind.ts';

/** Charts per scenario at most, so a scenario with many series keys does not bury its tables. */
export const MAX_CHARTS_PER_SCENARIO = 8;
/** Points a line chart shows at most; longer series are thinned evenly (first and last kept). */
export const MAX_CHART_POINTS = 60;

export interface ChartView {
  readonly title: string;
  readonly kind: 'bar' | 'line';
  readonly xLabel: string;
  readonly xValues: readonly string[];
  readonly yLabel: string;
  readonly values: readonly number[];
}

const PERCENTILE_LABELS: Readonly<Record<keyof typeof SUMMARY_PERCENTILES, string>> = {
  p50: 'p50', p75: 'p75', p90: 'p90', p95: 'p95', p99: 'p99', p999: 'p99.9',
};

/** Latency at each summary percentile of one histogram, as bars. */
export function percentileChart(scenarioTitle: string, name: string, histogram: HistogramResult): ChartView | null {
  const summary = histogram.summary;
  if (summary === null) return null;
  const keys = Object.keys(PERCENTILE_LABELS) as (keyof typeof SUMMARY_PERCENTILES)[];
  return {
    title: `${scenarioTitle}: ${name} percentiles (ms)`,
    kind: 'bar',
    xLabel: 'percentile',
    xValues: [...keys.map((k) => PERCENTILE_LABELS[k]), 'max'],
    yLabel: 'ms',
    values: [...keys.map((k) => summary[k]), summary.max],
  };
}

/** One line chart per numeric key of each series (a y-axis holds one unit). */
export function seriesCharts(scenario: ScenarioResult): ChartView[] {
  const charts: ChartView[] = [];
  for (const [name, points] of Object.entries(scenario.series)) {
    if (points.length < 2) continue;
    const thinned = thin(points);
    const keys = [...new Set(points.flatMap((p) => Object.keys(p)))].filter((k) => k !== 'x');
    const xLabel = xLabelOf(name);
    for (const key of keys) {
      charts.push({
        title: `${scenario.title}: ${key} over ${xLabel} (${name})`,
        kind: 'line',
        xLabel,
        xValues: thinned.map((p) => String(p.x)),
        yLabel: unitLabel(key),
        values: thinned.map((p) => p[key] ?? 0),
      });
    }
  }
  return charts;
}

/** Bars per node/instance from a table keyed by a node column, one chart per numeric column. */
export function nodeCharts(scenario: ScenarioResult): ChartView[] {
  const charts: ChartView[] = [];
  for (const [name, rows] of Object.entries(scenario.tables)) {
    const first = rows[0];
    if (first === undefined) continue;
    const nodeColumn = Object.keys(first).find((c) => /node|instance/i.test(c) && typeof first[c] === 'string');
    if (nodeColumn === undefined) continue;
    const numeric = Object.keys(first).filter((c) => rows.every((r) => typeof r[c] === 'number'));
    for (const column of numeric) {
      charts.push({
        title: `${scenario.title}: ${column} per ${nodeColumn} (${name})`,
        kind: 'bar',
        xLabel: nodeColumn,
        xValues: rows.map((r) => String(r[nodeColumn])),
        yLabel: unitLabel(column),
        values: rows.map((r) => r[column] as number),
      });
    }
  }
  return charts;
}

/** Every chart of a scenario, capped at MAX_CHARTS_PER_SCENARIO; percentile charts first. */
export function scenarioCharts(scenario: ScenarioResult): { charts: ChartView[]; omitted: number } {
  const percentile = Object.entries(scenario.histograms)
    .filter(([name]) => !name.endsWith('.uncorrected'))
    .map(([name, h]) => percentileChart(scenario.title, name, h))
    .filter((c): c is ChartView => c !== null);
  const all = [...percentile, ...seriesCharts(scenario), ...nodeCharts(scenario)];
  return { charts: all.slice(0, MAX_CHARTS_PER_SCENARIO), omitted: Math.max(0, all.length - MAX_CHARTS_PER_SCENARIO) };
}

/** What a series' x is, from its name (SeriesPoint does not record it): batches, nodes, else seconds. */
function xLabelOf(seriesName: string): string {
  if (/batch/i.test(seriesName)) return 'batch';
  if (/instance|node/i.test(seriesName)) return 'instances';
  return 'seconds';
}

function unitLabel(key: string): string {
  switch (dimensionFromName(key)) {
    case 'duration':
      return `${key} (ms)`;
    case 'bytes':
      return `${key} (bytes)`;
    case 'rate':
      return `${key} (/s)`;
    case 'ratio':
      return `${key} (fraction)`;
    case 'count':
      return key;
  }
}

function thin<T>(points: readonly T[]): T[] {
  if (points.length <= MAX_CHART_POINTS) return [...points];
  const step = (points.length - 1) / (MAX_CHART_POINTS - 1);
  return Array.from({ length: MAX_CHART_POINTS }, (_, i) => points[Math.round(i * step)] as T);
}

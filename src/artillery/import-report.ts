/**
 * Reads Artillery 2's JSON report (`artillery run --output`) into gauntlet's terms: the metrics
 * Artillery can give (ARTILLERY_METRIC_SPECS), status codes, errors, per-endpoint figures and a
 * per-period series. Artillery keeps latency as sketches summarised in ms, not as raw histograms.
 */
import { z } from 'zod';
import type { EngineInfo } from '../results/schema.ts';
import type { SeriesPoint } from '../scenario/definition.ts';
import type { LatencyStat } from '../scenario/latency-metrics.ts';
import { latencyMetricSpecs } from '../scenario/latency-metrics.ts';
import type { MetricSpec } from '../thresholds/bind.ts';
import { METRICS_BY_ENDPOINT_PLUGIN } from './export-script.ts';

/** Artillery's latency metric: time to first byte after the request was written (got's timings.phases.firstByte). */
export const ARTILLERY_LATENCY_METRIC = 'http.response_time';
/** What one ARTILLERY_LATENCY_METRIC sample spans, in words: results (engine.latency), notes and metric descriptions say it. */
export const ARTILLERY_LATENCY_MEASURES = 'time to first byte after the request was written (connection set-up excluded)';
/** Artillery keeps latency in DDSketches of this relative accuracy (@artilleryio/int-core ssms.js), summarised in whole ms. */
export const ARTILLERY_SKETCH_RELATIVE_ERROR = 0.01;
const ACCURACY = `whole ms, ~${ARTILLERY_SKETCH_RELATIVE_ERROR * 100}% sketch error`;
/** What an Artillery run measured and how accurately, for a result's `engine`. */
export function artilleryEngineInfo(version: string, platform: string, unavailableMetrics: readonly string[]): EngineInfo {
  return {
    name: 'artillery',
    version,
    platform,
    latency: {
      metric: ARTILLERY_LATENCY_METRIC,
      measures: ARTILLERY_LATENCY_MEASURES,
      resolutionMs: 1,
      relativeError: ARTILLERY_SKETCH_RELATIVE_ERROR,
      rawHistogram: false,
      correctedForCoordinatedOmission: false,
    },
    unavailableMetrics,
  };
}
/** With extendedMetrics: the whole exchange (DNS, TCP connect, waiting, download), from the actual send. */
export const ARTILLERY_TOTAL_METRIC = 'http.total';
const TOTAL_STATS: readonly LatencyStat[] = ['p50', 'p95', 'p99', 'max'];
/** The statistics Artillery's summaries carry, as gauntlet names them. */
export const ARTILLERY_LATENCY_STATS: readonly LatencyStat[] = ['p50', 'p75', 'p90', 'p95', 'p99', 'p999', 'max', 'mean'];

/** Every metric a run under the Artillery engine reports; thresholds may name only these. */
export const ARTILLERY_METRIC_SPECS: readonly MetricSpec[] = [
  ...latencyMetricSpecs('latency', `Artillery's ${ARTILLERY_LATENCY_METRIC} (${ARTILLERY_LATENCY_MEASURES}; ${ACCURACY})`, ARTILLERY_LATENCY_STATS),
  ...latencyMetricSpecs('latency.total', `Artillery's ${ARTILLERY_TOTAL_METRIC} (the whole exchange: connect, wait, download; from the actual send; ${ACCURACY})`, TOTAL_STATS),
  { name: 'errors.rate', dimension: 'ratio', description: 'requests answered with a status their flow does not expect, or not answered at all, over requests sent' },
  { name: 'http.requests', dimension: 'count', description: 'requests Artillery sent' },
  { name: 'http.responses', dimension: 'count', description: 'responses Artillery received' },
  { name: 'http.request_rate', dimension: 'rate', description: "Artillery's mean request rate over the run" },
  { name: 'vusers.created', dimension: 'count', description: 'virtual users started' },
  { name: 'vusers.completed', dimension: 'count', description: 'virtual users that ran their whole flow' },
  { name: 'vusers.failed', dimension: 'count', description: 'virtual users stopped by an error (no answer, a failed capture)' },
];

const summaryShape = z.object({ min: z.number(), max: z.number(), count: z.number(), mean: z.number(), p50: z.number(), p75: z.number(), p90: z.number(), p95: z.number(), p99: z.number(), p999: z.number() });
const periodShape = z.object({
  counters: z.record(z.string(), z.number()).default({}),
  rates: z.record(z.string(), z.number()).default({}),
  // Kept loose: Artillery writes summaries it has no samples for with nulls (http.tls without TLS); each is checked where read.
  summaries: z.record(z.string(), z.unknown()).default({}),
  firstMetricAt: z.number().optional(),
  period: z.union([z.number(), z.string()]).optional(),
});
const reportShape = z.object({ aggregate: periodShape, intermediate: z.array(periodShape).default([]) });

type Period = z.infer<typeof periodShape>;
type ArtillerySummary = z.infer<typeof summaryShape>;
type Row = Record<string, string | number | boolean | null>;

export interface ImportedReport {
  readonly metrics: Readonly<Record<string, number>>;
  readonly tables: { readonly codes: Row[]; readonly errors: Row[]; readonly endpoints: Row[]; readonly flows: Row[] };
  /** One point per reporting period (x: seconds from the first), keys named as the metrics. */
  readonly series: readonly SeriesPoint[];
}

export type ImportOutcome = { readonly ok: true; readonly report: ImportedReport } | { readonly ok: false; readonly error: string };

/** Parses the report's JSON text; a report of another shape is an error naming what is missing. */
export function importArtilleryReport(text: string): ImportOutcome {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return { ok: false, error: `Artillery's report is not JSON: ${(error as Error).message}` };
  }
  const parsed = reportShape.safeParse(json);
  if (!parsed.success) {
    return { ok: false, error: `Artillery's report has an unexpected shape (${parsed.error.issues.slice(0, 3).map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')})` };
  }
  const { aggregate, intermediate } = parsed.data;
  const t0 = intermediate[0]?.firstMetricAt ?? aggregate.firstMetricAt ?? 0;
  return {
    ok: true,
    report: {
      metrics: periodMetrics(aggregate),
      tables: { codes: prefixed(aggregate, 'http.codes.', 'status'), errors: prefixed(aggregate, 'errors.', 'error'), endpoints: endpoints(aggregate), flows: prefixed(aggregate, 'vusers.created_by_name.', 'flow') },
      series: intermediate.length < MIN_SERIES_PERIODS ? [] : intermediate.map((p) => seriesPoint(p, t0)),
    },
  };
}

/**
 * A series of fewer periods says nothing over time: Artillery's periods are 10 s windows of the
 * wall clock, so a short run has one or two, the first and last cut short.
 */
const MIN_SERIES_PERIODS = 3;
/** The per-period figures kept as a series: what compare can test across periods, and the report charts. */
const SERIES_METRICS = ['latency.p50', 'latency.p99', 'errors.rate'];

function seriesPoint(p: Period, t0: number): SeriesPoint {
  const values = periodMetrics(p);
  return { x: Math.round(((p.firstMetricAt ?? t0) - t0) / 100) / 10, ...Object.fromEntries(SERIES_METRICS.flatMap((k) => (values[k] === undefined ? [] : [[k, values[k]]]))) };
}

/** The ARTILLERY_METRIC_SPECS values of one period (or the whole run); latency only when something was answered. */
function periodMetrics(p: Period): Record<string, number> {
  const c = (name: string): number => p.counters[name] ?? 0;
  const requests = c('http.requests');
  const unanswered = Math.max(0, requests - c('http.responses'));
  const out: Record<string, number> = {
    'errors.rate': requests === 0 ? 0 : (c('plugins.expect.failed.statusCode') + unanswered) / requests,
    'http.requests': requests,
    'http.responses': c('http.responses'),
    'http.request_rate': p.rates['http.request_rate'] ?? 0,
    'vusers.created': c('vusers.created'),
    'vusers.completed': c('vusers.completed'),
    'vusers.failed': c('vusers.failed'),
  };
  const latency = summaryOf(p, ARTILLERY_LATENCY_METRIC);
  if (latency !== undefined && latency.count > 0) for (const stat of ARTILLERY_LATENCY_STATS) out[`latency.${stat}`] = latency[stat];
  const total = summaryOf(p, ARTILLERY_TOTAL_METRIC);
  if (total !== undefined && total.count > 0) for (const stat of TOTAL_STATS) out[`latency.total.${stat}`] = total[stat];
  return out;
}

/** A summary with every figure a number, or undefined (absent, or written without samples). */
function summaryOf(p: Period, name: string): ArtillerySummary | undefined {
  const parsed = summaryShape.safeParse(p.summaries[name]);
  return parsed.success ? parsed.data : undefined;
}

function prefixed(p: Period, prefix: string, key: string): Row[] {
  return Object.entries(p.counters)
    .filter(([name]) => name.startsWith(prefix))
    .map(([name, count]) => ({ [key]: name.slice(prefix.length), count }))
    .sort((a, b) => String(a[key]).localeCompare(String(b[key])));
}

/** Per named request: answers by status, errors, and its time-to-first-byte summary. */
function endpoints(p: Period): Row[] {
  const prefix = `plugins.${METRICS_BY_ENDPOINT_PLUGIN}.`;
  const latencyPrefix = `${prefix}response_time.`;
  const names = new Set(Object.keys(p.summaries).filter((k) => k.startsWith(latencyPrefix)).map((k) => k.slice(latencyPrefix.length)));
  for (const counter of Object.keys(p.counters)) {
    const match = /^(.*)\.(codes|errors)\.[^.]+$/.exec(counter.slice(prefix.length));
    if (counter.startsWith(prefix) && match?.[1] !== undefined) names.add(match[1]);
  }
  return [...names].sort().map((name) => {
    const codes = Object.entries(p.counters)
      .filter(([k]) => k.startsWith(`${prefix}${name}.codes.`))
      .sort(([a], [b]) => a.localeCompare(b));
    const errors = Object.entries(p.counters).filter(([k]) => k.startsWith(`${prefix}${name}.errors.`)).reduce((s, [, n]) => s + n, 0);
    const s = summaryOf(p, `${latencyPrefix}${name}`);
    return {
      endpoint: name,
      responses: codes.reduce((sum, [, n]) => sum + n, 0),
      codes: codes.map(([k, n]) => `${k.slice(`${prefix}${name}.codes.`.length)}: ${n}`).join(', '),
      errors,
      p50Ms: s?.p50 ?? null,
      p95Ms: s?.p95 ?? null,
      p99Ms: s?.p99 ?? null,
      maxMs: s?.max ?? null,
    };
  });
}

/**
 * Cross-check of Server-Timing against the target's own query histogram
 * (`gauntlet_db_query_duration_seconds{query}`): over the load window, per query, the observation
 * count and mean duration seen in the headers must match the deltas of `_count` and `_sum`.
 */
import type { PromExposition } from '../../src/measure/prometheus/parse.ts';
import { sumByLabel } from '../../src/measure/prometheus/query.ts';
import type { QueryTotals } from './query-server-timing.ts';

export const QUERY_DURATION_METRIC = 'gauntlet_db_query_duration_seconds';

/**
 * How far the two means may differ. Server-Timing carries two decimals (±0.005 ms per value, so at
 * most that on the mean); the relative part covers float sums in prom-client. Nothing else may differ:
 * the header and the metric are written from the same timing list.
 */
export const MEAN_TOLERANCE = { absoluteMs: 0.01, relative: 0.02 } as const;

export interface QueryAgreementRow {
  readonly [column: string]: string | number | boolean;
  readonly query: string;
  readonly headerCount: number;
  readonly metricsCount: number;
  readonly headerMeanMs: number;
  readonly metricsMeanMs: number;
  readonly agrees: boolean;
}

export interface QueryAgreement {
  readonly rows: readonly QueryAgreementRow[];
  readonly disagreements: readonly string[];
}

/** Per-query `_count` and `_sum` (ms) summed over instances. */
export function queryTotalsFromMetrics(expositions: readonly PromExposition[]): Record<string, QueryTotals> {
  const samples = expositions.flatMap((e) => e.samples);
  const counts = sumByLabel(samples, `${QUERY_DURATION_METRIC}_count`, 'query');
  const sums = sumByLabel(samples, `${QUERY_DURATION_METRIC}_sum`, 'query');
  return Object.fromEntries(Object.entries(counts).map(([q, count]) => [q, { count, sumMs: (sums[q] ?? 0) * 1000 }]));
}

/** `after - before` per query. */
export function deltaTotals(before: Readonly<Record<string, QueryTotals>>, after: Readonly<Record<string, QueryTotals>>): Record<string, QueryTotals> {
  return Object.fromEntries(
    Object.entries(after).map(([q, t]) => [q, { count: t.count - (before[q]?.count ?? 0), sumMs: t.sumMs - (before[q]?.sumMs ?? 0) }]),
  );
}

/**
 * Compares header totals with metric deltas. `unanswered` requests may have run queries the harness
 * never saw a header for, so the counts may differ by that much (0 in a clean run: exact).
 */
export function compareQueryTotals(
  header: Readonly<Record<string, QueryTotals>>,
  metrics: Readonly<Record<string, QueryTotals>>,
  unanswered: number,
): QueryAgreement {
  const names = [...new Set([...Object.keys(header), ...Object.keys(metrics).filter((q) => (metrics[q]?.count ?? 0) > 0)])].sort();
  const rows: QueryAgreementRow[] = [];
  const disagreements: string[] = [];
  for (const query of names) {
    const h = header[query] ?? { count: 0, sumMs: 0 };
    const m = metrics[query] ?? { count: 0, sumMs: 0 };
    const headerMeanMs = h.count === 0 ? 0 : h.sumMs / h.count;
    const metricsMeanMs = m.count === 0 ? 0 : m.sumMs / m.count;
    const countOk = Math.abs(h.count - m.count) <= unanswered;
    const meanOk = Math.abs(headerMeanMs - metricsMeanMs) <= Math.max(MEAN_TOLERANCE.absoluteMs, MEAN_TOLERANCE.relative * metricsMeanMs);
    const agrees = countOk && meanOk;
    if (!agrees) {
      disagreements.push(
        `${query}: Server-Timing ${h.count} x ${round(headerMeanMs)} ms, /metrics ${m.count} x ${round(metricsMeanMs)} ms` +
          (countOk ? '' : ` (counts differ by ${h.count - m.count}, allowed ${unanswered})`),
      );
    }
    rows.push({ query, headerCount: h.count, metricsCount: m.count, headerMeanMs: round(headerMeanMs), metricsMeanMs: round(metricsMeanMs), agrees });
  }
  return { rows, disagreements };
}

function round(n: number): number {
  return Math.round(n * 10_000) / 10_000;
}

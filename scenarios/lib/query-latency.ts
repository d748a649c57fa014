/** Metric specs and values of the DB query scenario: per query, per response DB total, end to end. */
import type { LatencySummary } from '../../src/measure/summary.ts';
import type { MetricSpec } from '../../src/thresholds/bind.ts';

/**
 * The queries a family creation reports (both stores): user lookup (auth), rate-limit hit, family
 * count (limit check), family insert. The SQLite store adds membership insert and change log.
 */
export const CREATION_QUERIES = ['db-user-lookup', 'db-rate-limit', 'db-family-count', 'db-family-insert'] as const;
/** Reported too when present; a store that does these elsewhere simply has no figures for them. */
export const OPTIONAL_CREATION_QUERIES = ['db-membership-insert', 'db-change-log'] as const;

const PERCENTILES = ['p50', 'p95', 'p99'] as const;

/** `db-user-lookup` -> `query.db_user_lookup` (the threshold grammar allows no '-'). */
export function queryMetricPrefix(query: string): string {
  return `query.${query.replace(/-/g, '_')}`;
}

/** `<prefix>.p50/p95/p99` specs, plus `<prefix>.mean` when `withMean`. */
export function percentileSpecs(prefix: string, what: string, withMean = false): MetricSpec[] {
  const specs: MetricSpec[] = PERCENTILES.map((k) => ({ name: `${prefix}.${k}`, dimension: 'duration', description: `${k.slice(1)}th percentile of ${what}` }));
  return withMean ? [...specs, { name: `${prefix}.mean`, dimension: 'duration', description: `mean of ${what}` }] : specs;
}

/** Values for `percentileSpecs`; none when nothing was recorded. */
export function percentileMetrics(summary: LatencySummary | null, prefix: string, withMean = false): Record<string, number> {
  if (summary === null) return {};
  const values: Record<string, number> = { [`${prefix}.p50`]: summary.p50, [`${prefix}.p95`]: summary.p95, [`${prefix}.p99`]: summary.p99 };
  if (withMean) values[`${prefix}.mean`] = summary.mean;
  return values;
}

/** Specs of every per-query metric the scenario may report. */
export function queryMetricSpecs(): MetricSpec[] {
  return [...CREATION_QUERIES, ...OPTIONAL_CREATION_QUERIES].flatMap((q) =>
    percentileSpecs(queryMetricPrefix(q), `${q} durations reported in Server-Timing`, true),
  );
}

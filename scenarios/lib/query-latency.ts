/** Metric specs and values of the DB query scenario: per query, per response DB total, end to end. */
import { latencyMetricSpecs } from '../../src/scenario/latency-metrics.ts';
import type { LatencyStat } from '../../src/scenario/latency-metrics.ts';
import type { MetricSpec } from '../../src/thresholds/bind.ts';

/**
 * The queries a family creation reports (both stores): user lookup (auth), rate-limit hit, family
 * count (limit check), family insert. The SQLite store adds membership insert and change log.
 */
export const CREATION_QUERIES = ['db-user-lookup', 'db-rate-limit', 'db-family-count', 'db-family-insert'] as const;
/** Reported too when present; a store that does these elsewhere simply has no figures for them. */
export const OPTIONAL_CREATION_QUERIES = ['db-membership-insert', 'db-change-log'] as const;

/** `db-user-lookup` -> `query.db_user_lookup` (the threshold grammar allows no '-'). */
export function queryMetricPrefix(query: string): string {
  return `query.${query.replace(/-/g, '_')}`;
}

/** Per query: the percentiles and the mean (the mean is what the /metrics cross-check compares). */
export const QUERY_STATS: readonly LatencyStat[] = ['p50', 'p95', 'p99', 'mean'];

/** Specs of every per-query metric the scenario may report. */
export function queryMetricSpecs(): MetricSpec[] {
  return [...CREATION_QUERIES, ...OPTIONAL_CREATION_QUERIES].flatMap((q) =>
    latencyMetricSpecs(queryMetricPrefix(q), `${q} durations reported in Server-Timing`, QUERY_STATS),
  );
}

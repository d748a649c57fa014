/** Latency metrics from an HDR histogram summary: the specs scenarios declare and the values they report. */
import type { LatencySummary } from '../measure/summary.ts';
import type { MetricSpec } from '../thresholds/bind.ts';

export type LatencyStat = 'p50' | 'p75' | 'p90' | 'p95' | 'p99' | 'p999' | 'max' | 'mean';

/** The statistics most scenarios report. */
export const DEFAULT_LATENCY_STATS: readonly LatencyStat[] = ['p50', 'p95', 'p99'];

const STAT_WORDS: Readonly<Record<LatencyStat, string>> = {
  p50: 'median',
  p75: '75th percentile',
  p90: '90th percentile',
  p95: '95th percentile',
  p99: '99th percentile',
  p999: '99.9th percentile',
  max: 'slowest',
  mean: 'mean',
};

/** Specs of `<prefix>.<stat>` for each stat, e.g. `latency.p99`: "99th percentile of <what>". */
export function latencyMetricSpecs(prefix: string, what: string, stats: readonly LatencyStat[] = DEFAULT_LATENCY_STATS): MetricSpec[] {
  return stats.map((stat) => ({ name: `${prefix}.${stat}`, dimension: 'duration', description: `${STAT_WORDS[stat]} of ${what}` }));
}

/** Values (ms) for `latencyMetricSpecs`; none when nothing was recorded, so a threshold reads "not measured". */
export function latencyMetricValues(summary: LatencySummary | null, prefix: string, stats: readonly LatencyStat[] = DEFAULT_LATENCY_STATS): Record<string, number> {
  if (summary === null) return {};
  return Object.fromEntries(stats.map((stat) => [`${prefix}.${stat}`, summary[stat]]));
}

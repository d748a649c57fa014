/** Latency metrics of a burst, from its HDR histogram: the names the two burst scenarios declare. */
import type { LatencySummary } from '../../src/measure/summary.ts';
import type { MetricSpec } from '../../src/thresholds/bind.ts';

/** Specs of `<prefix>.p50/p95/p99/max` (default prefix `latency`). */
export function latencySpecs(prefix = 'latency', what = 'the burst'): MetricSpec[] {
  return (['p50', 'p95', 'p99', 'max'] as const).map((k) => ({
    name: `${prefix}.${k}`,
    dimension: 'duration',
    description: `${k === 'max' ? 'Slowest answer' : `${k.slice(1)}th percentile`} of ${what}, from the release instant`,
  }));
}

export const LATENCY_METRIC_SPECS: readonly MetricSpec[] = latencySpecs();

/** `<prefix>.p50/p95/p99/max` in ms; none when nothing was recorded (an empty burst has no p99). */
export function latencyMetrics(summary: LatencySummary | null, prefix = 'latency'): Record<string, number> {
  if (summary === null) return {};
  return { [`${prefix}.p50`]: summary.p50, [`${prefix}.p95`]: summary.p95, [`${prefix}.p99`]: summary.p99, [`${prefix}.max`]: summary.max };
}

/**
 * What a metric is and which way is worse: the ONE place the report, findings and `compare` learn
 * a metric's dimension and direction.
 *
 * Dimension: the scenario's declared one (`metricDimensions`, else a threshold naming the metric);
 * failing both, from the name, by these rules in order: `...count` -> count; `....pNN` -> duration; bytes|rss|heap|memory|growth -> bytes;
 * latency|staleness|duration|pause|delay|time -> duration; throughput|rps -> rate;
 * rate|ratio|efficiency|fraction|success|hit|balance|jain|cv -> ratio; anything else -> count.
 *
 * Direction: better-higher for throughput, hit and success ratios, scaling efficiency, balance and
 * fairness; better-lower for latency, durations, memory, error rates, variation and correctness
 * counts (violations, duplicates, errors, failures, leaks, 5xx, crashes, mismatches, drops,
 * rejections, missing/visible things, over_/under_/false_ counts);
 * anything else (requests sent, families created, reads) is `neutral`: it describes the load
 * offered, so a change in it is shown but never called a regression. A `request_rate` (Artillery's
 * `http.request_rate`: requests sent per second) is offered load too, neutral, never throughput.
 */
import type { ScenarioResult } from '../results/schema.ts';
import type { Dimension } from '../thresholds/units.ts';

export type Direction = 'lower-is-better' | 'higher-is-better' | 'neutral';

export interface MetricKind {
  readonly dimension: Dimension;
  readonly direction: Direction;
}

const DIMENSION_RULES: readonly (readonly [RegExp, Dimension])[] = [
  [/(^|[._])count$/i, 'count'],
  [/\.p\d+$/i, 'duration'],
  [/bytes|rss|heap|memory|growth/i, 'bytes'],
  [/latency|staleness|duration|pause|delay|time/i, 'duration'],
  [/throughput|rps/i, 'rate'],
  [/rate|ratio|efficiency|fraction|success|hit|balance|jain|(^|[._])cv($|[._])/i, 'ratio'],
];

const HIGHER_IS_BETTER = /throughput|rps|hit|success|efficiency|balance|jain|fairness/i;
const LOWER_IS_BETTER_COUNTS = /violation|duplicate|error|fail|lost|leak|stale|timeout|5xx|crash|mismatch|drop|rejection|missing|visible|over_|under_|false_/i;
const LOWER_IS_BETTER_RATIOS = /error|fail|drop|miss|disagree|(^|[._])cv($|[._])|variation|degradation|slowdown/i;

/** The dimension and direction of `metric` in `scenario` (a declared dimension wins over the name). */
export function metricKind(metric: string, scenario?: Pick<ScenarioResult, 'thresholds' | 'metricDimensions'>): MetricKind {
  const declared = scenario?.metricDimensions?.[metric] ?? scenario?.thresholds.find((t) => t.metric === metric)?.dimension;
  const dimension = declared ?? dimensionFromName(metric);
  return { dimension, direction: directionOf(metric, dimension) };
}

/** The dimension the naming rules give `metric`. */
export function dimensionFromName(metric: string): Dimension {
  for (const [pattern, dimension] of DIMENSION_RULES) if (pattern.test(metric)) return dimension;
  return 'count';
}

/** Offered load, not what the target sustained: Artillery's `http.request_rate`. */
const OFFERED_LOAD = /(^|[._])request_rate$/i;

function directionOf(metric: string, dimension: Dimension): Direction {
  if (OFFERED_LOAD.test(metric)) return 'neutral';
  if (HIGHER_IS_BETTER.test(metric) && !LOWER_IS_BETTER_RATIOS.test(metric)) return 'higher-is-better';
  switch (dimension) {
    case 'duration':
    case 'bytes':
      return 'lower-is-better';
    case 'rate':
      return 'higher-is-better';
    case 'ratio':
      return LOWER_IS_BETTER_RATIOS.test(metric) ? 'lower-is-better' : 'neutral';
    case 'count':
      return LOWER_IS_BETTER_COUNTS.test(metric) ? 'lower-is-better' : 'neutral';
  }
}

/** +1 when an increase is worse, -1 when a decrease is worse, 0 for neutral metrics. */
export function worseSign(direction: Direction): 1 | -1 | 0 {
  return direction === 'lower-is-better' ? 1 : direction === 'higher-is-better' ? -1 : 0;
}

/**
 * Queries over parsed Prometheus samples: select by name and label matchers, sum, single value,
 * and histogram quantiles computed from cumulative `_bucket` series as PromQL's histogram_quantile does.
 */
import { parsePromValue, type PromSample } from './parse.ts';

/** Exact value, `{ not: value }`, or a RegExp tested against the value. A missing label reads as "". */
export type LabelMatcher = string | { not: string } | RegExp;
export type LabelMatchers = Readonly<Record<string, LabelMatcher>>;

function matches(sample: PromSample, matchers: LabelMatchers): boolean {
  for (const [label, matcher] of Object.entries(matchers)) {
    const actual = sample.labels[label] ?? '';
    if (typeof matcher === 'string') {
      if (actual !== matcher) return false;
    } else if (matcher instanceof RegExp) {
      if (!matcher.test(actual)) return false;
    } else if (actual === matcher.not) {
      return false;
    }
  }
  return true;
}

/** Samples with this exact name whose labels satisfy every matcher. */
export function selectSamples(samples: readonly PromSample[], name: string, matchers: LabelMatchers = {}): PromSample[] {
  return samples.filter((sample) => sample.name === name && matches(sample, matchers));
}

/** Sum of the matching samples; null when none match (absent is not zero). */
export function sumValues(samples: readonly PromSample[], name: string, matchers: LabelMatchers = {}): number | null {
  const selected = selectSamples(samples, name, matchers);
  if (selected.length === 0) return null;
  return selected.reduce((sum, sample) => sum + sample.value, 0);
}

/** The value of the one matching sample; null when none; throws when several match. */
export function singleValue(samples: readonly PromSample[], name: string, matchers: LabelMatchers = {}): number | null {
  const selected = selectSamples(samples, name, matchers);
  if (selected.length > 1) {
    const labelSets = selected.map((s) => JSON.stringify(s.labels)).join(', ');
    throw new Error(`${String(selected.length)} samples of ${name} match (${labelSets}); add label matchers to pick one, or use sumValues`);
  }
  return selected[0]?.value ?? null;
}

/** Sums matching samples per value of `label` (e.g. GC counts by `kind`). */
export function sumByLabel(
  samples: readonly PromSample[],
  name: string,
  label: string,
  matchers: LabelMatchers = {},
): Record<string, number> {
  const sums: Record<string, number> = {};
  for (const sample of selectSamples(samples, name, matchers)) {
    const key = sample.labels[label] ?? '';
    sums[key] = (sums[key] ?? 0) + sample.value;
  }
  return sums;
}

/**
 * The q-quantile (0..1) of histogram `family` from its `family_bucket` series, summed across the
 * matching series per `le`. Linear interpolation inside a bucket; the first bucket starts at 0; a
 * rank in the +Inf bucket returns the highest finite bound. Null when there are no observations
 * or no finite bucket to bound them.
 */
export function histogramQuantile(
  samples: readonly PromSample[],
  family: string,
  q: number,
  matchers: LabelMatchers = {},
): number | null {
  if (!(q >= 0 && q <= 1)) throw new RangeError(`quantile must be within [0, 1], got ${String(q)}; use 0.99 for p99`);
  const byBound = new Map<number, number>();
  for (const sample of selectSamples(samples, `${family}_bucket`, matchers)) {
    const le = parsePromValue(sample.labels.le ?? '');
    if (le === null || Number.isNaN(le)) throw new Error(`${family}_bucket has a sample without a numeric "le" label; is ${family} a histogram?`);
    byBound.set(le, (byBound.get(le) ?? 0) + sample.value);
  }
  if (byBound.size === 0) return null;
  const buckets = [...byBound.entries()].map(([upper, count]) => ({ upper, count })).sort((a, b) => a.upper - b.upper);
  const last = buckets[buckets.length - 1];
  if (last?.upper !== Number.POSITIVE_INFINITY) throw new Error(`${family} has no le="+Inf" bucket; the exposition is not a valid histogram`);
  // Scrapes are not atomic: a later bucket may read lower than an earlier one. Force monotonicity.
  for (let i = 1; i < buckets.length; i++) {
    const previous = buckets[i - 1];
    const current = buckets[i];
    if (previous && current && current.count < previous.count) current.count = previous.count;
  }
  const total = last.count;
  if (total === 0) return null;
  const rank = q * total;
  const index = buckets.findIndex((bucket) => bucket.count >= rank);
  const bucket = buckets[index];
  if (!bucket) return null;
  if (index === buckets.length - 1) return buckets[buckets.length - 2]?.upper ?? null;
  const below = buckets[index - 1];
  const lower = below?.upper ?? 0;
  if (below === undefined && bucket.upper <= 0) return bucket.upper;
  const inBucket = bucket.count - (below?.count ?? 0);
  if (inBucket === 0) return bucket.upper;
  return lower + (bucket.upper - lower) * ((rank - (below?.count ?? 0)) / inBucket);
}

/**
 * The two noise tests `compare` uses. Both are deterministic (a seeded generator), so the same two
 * results files always give the same verdict.
 *
 * - Mann-Whitney U on per-interval samples (a series value per second or per batch): does one
 *   run's distribution sit above the other's? Normal approximation with tie correction.
 * - Bootstrap of a latency percentile from the two saved HDR histograms: resample each histogram,
 *   take the percentile, and read a confidence interval and a p-value of the difference.
 * Many metrics are tested at once, so `compare` corrects the p-values (Holm) before judging.
 */
import { JsHistogram } from 'hdr-histogram-js';
import type { Histogram } from '../measure/histogram.ts';

/** Two-sided significance level of both tests. */
export const NOISE_ALPHA = 0.05;
/** Bootstrap resamples per comparison. */
export const BOOTSTRAP_RESAMPLES = 2000;
/** Fewer per-interval samples than this per run: Mann-Whitney is not attempted. */
export const MIN_INTERVAL_SAMPLES = 5;
/** Seed of the bootstrap's generator. */
export const BOOTSTRAP_SEED = 0x9e3779b9;

export interface MannWhitneyResult {
  readonly u: number;
  readonly z: number;
  /** Two-sided p-value. */
  readonly p: number;
}

/** Mann-Whitney U of `a` against `b` (z > 0: `b` tends to be larger). */
export function mannWhitney(a: readonly number[], b: readonly number[]): MannWhitneyResult {
  const n1 = a.length;
  const n2 = b.length;
  if (n1 === 0 || n2 === 0) throw new RangeError('Mann-Whitney needs samples on both sides');
  const all = [...a.map((v) => ({ v, fromB: false })), ...b.map((v) => ({ v, fromB: true }))].sort((x, y) => x.v - y.v);
  let rankSumB = 0;
  let tieTerm = 0;
  for (let i = 0; i < all.length; ) {
    let j = i;
    while (j + 1 < all.length && all[j + 1]?.v === all[i]?.v) j++;
    const rank = (i + j) / 2 + 1;
    const ties = j - i + 1;
    tieTerm += ties ** 3 - ties;
    for (let k = i; k <= j; k++) if (all[k]?.fromB === true) rankSumB += rank;
    i = j + 1;
  }
  const u = rankSumB - (n2 * (n2 + 1)) / 2;
  const n = n1 + n2;
  const variance = ((n1 * n2) / 12) * (n + 1 - tieTerm / (n * (n - 1)));
  const z = variance > 0 ? (u - (n1 * n2) / 2) / Math.sqrt(variance) : 0;
  return { u, z, p: 2 * (1 - normalCdf(Math.abs(z))) };
}

/** Standard normal CDF (Abramowitz-Stegun 26.2.17, error < 7.5e-8). */
export function normalCdf(x: number): number {
  const t = 1 / (1 + 0.2316419 * Math.abs(x));
  const density = Math.exp((-x * x) / 2) / Math.sqrt(2 * Math.PI);
  const tail = density * t * (0.31938153 + t * (-0.356563782 + t * (1.781477937 + t * (-1.821255978 + t * 1.330274429))));
  return x >= 0 ? 1 - tail : tail;
}

export interface BootstrapResult {
  /** Observed percentile(current) - percentile(baseline), ms. */
  readonly difference: number;
  /** Percentile interval (1 - NOISE_ALPHA) of the difference, ms. */
  readonly low: number;
  readonly high: number;
  /** Bootstrap standard error of the difference, ms. */
  readonly se: number;
  /** Two-sided p-value of "no difference", from the bootstrap standard error. */
  readonly p: number;
}

/**
 * Bootstrap of percentile(current) - percentile(baseline) from two histograms. A resample's
 * percentile is the k-th order statistic of n draws, i.e. the inverse CDF at a Beta(k, n+1-k)
 * variate: exact resampling of the quantile, one draw per resample instead of n.
 */
export function bootstrapPercentileDifference(baseline: Histogram, current: Histogram, percentile: number): BootstrapResult {
  const random = mulberry32(BOOTSTRAP_SEED);
  const a = cumulative(baseline);
  const b = cumulative(current);
  const difference = (observedPercentile(b, percentile) - observedPercentile(a, percentile)) / MICROS_PER_MS;
  const diffs: number[] = [];
  for (let r = 0; r < BOOTSTRAP_RESAMPLES; r++) {
    diffs.push((resampledPercentile(b, percentile, random) - resampledPercentile(a, percentile, random)) / MICROS_PER_MS);
  }
  diffs.sort((x, y) => x - y);
  const at = (q: number): number => diffs[Math.min(diffs.length - 1, Math.max(0, Math.floor(q * diffs.length)))] ?? 0;
  const mean = diffs.reduce((sum, d) => sum + d, 0) / diffs.length;
  const se = Math.sqrt(diffs.reduce((sum, d) => sum + (d - mean) ** 2, 0) / (diffs.length - 1));
  const p = se > 0 ? 2 * (1 - normalCdf(Math.abs(difference) / se)) : difference === 0 ? 1 : 0;
  return { difference, low: at(NOISE_ALPHA / 2), high: at(1 - NOISE_ALPHA / 2), se, p };
}

const MICROS_PER_MS = 1000;

interface Cumulative {
  readonly values: number[];
  readonly upTo: number[];
  readonly total: number;
}

/** Bucket values (µs) with running counts: the inverse CDF a resample draws from. */
function cumulative(histogram: Histogram): Cumulative {
  if (!(histogram instanceof JsHistogram)) throw new TypeError('bootstrap needs a JS histogram (decodeHistogram gives one)');
  const values: number[] = [];
  const upTo: number[] = [];
  let total = 0;
  const buckets = histogram.recordedValuesIterator;
  buckets.reset();
  while (buckets.hasNext()) {
    const step = buckets.next();
    total += step.countAtValueIteratedTo;
    values.push(histogram.medianEquivalentValue(step.valueIteratedTo));
    upTo.push(total);
  }
  return { values, upTo, total };
}

function rank(c: Cumulative, percentile: number): number {
  return Math.min(c.total, Math.max(1, Math.ceil((percentile / 100) * c.total)));
}

function observedPercentile(c: Cumulative, percentile: number): number {
  return c.values[lowerBound(c.upTo, rank(c, percentile) - 0.5)] ?? 0;
}

function resampledPercentile(c: Cumulative, percentile: number, random: () => number): number {
  const k = rank(c, percentile);
  const u = beta(k, c.total + 1 - k, random);
  return c.values[lowerBound(c.upTo, u * c.total)] ?? 0;
}

/** Beta(a, b) from two gamma variates. */
function beta(a: number, b: number, random: () => number): number {
  const x = gamma(a, random);
  return x / (x + gamma(b, random));
}

/** Gamma(shape, 1), Marsaglia-Tsang; shape >= 1 here (order-statistic ranks). */
function gamma(shape: number, random: () => number): number {
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  // Accepts within a few tries almost surely; the bound only keeps the loop finite.
  for (let attempt = 0; attempt < 1000; attempt++) {
    const x = standardNormal(random);
    const root = 1 + c * x;
    if (root <= 0) continue;
    const v = root * root * root;
    const u = random();
    if (u < 1 - 0.0331 * x ** 4 || Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
  }
  return d;
}

function standardNormal(random: () => number): number {
  const u = Math.max(random(), Number.MIN_VALUE);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

/** First index whose running count exceeds `x`. */
function lowerBound(upTo: readonly number[], x: number): number {
  let lo = 0;
  let hi = upTo.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((upTo[mid] ?? 0) > x) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** A small seeded PRNG (mulberry32): reproducible resamples. */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

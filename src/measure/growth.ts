/**
 * Memory growth over batches: least-squares slope of memory against cumulative operations, with
 * a t-distribution confidence interval. The verdict is "no sustained growth" when the interval
 * includes 0 or the slope is below a threshold — never a single before/after difference, which GC
 * timing can fake either way.
 */
import { fitPooledSlope } from './slope.ts';

/** Growth below this is not called sustained: 32 B/op is 32 MB over a million-operation soak. */
export const DEFAULT_GROWTH_THRESHOLD_BYTES_PER_OP = 32;
/** Two-sided confidence level of the slope interval. */
export const GROWTH_CONFIDENCE = 0.95;
/** A slope and its error need at least 3 batches (n - 2 degrees of freedom). */
export const MIN_GROWTH_POINTS = 3;

export interface GrowthPoint {
  cumulativeOperations: number;
  memoryBytes: number;
}

export type GrowthVerdict = 'no-sustained-growth' | 'sustained-growth';

export type GrowthEstimate =
  | { state: 'insufficient-data'; points: number; reason: string }
  | {
      state: 'estimated';
      points: number;
      slopeBytesPerOp: number;
      interceptBytes: number;
      standardError: number;
      degreesOfFreedom: number;
      confidence: number;
      ci: { low: number; high: number };
      thresholdBytesPerOp: number;
      verdict: GrowthVerdict;
    };

export interface GrowthOptions {
  thresholdBytesPerOp?: number;
  confidence?: number;
}

/** Fits memory = intercept + slope * operations and judges the slope. */
export function estimateGrowth(points: readonly GrowthPoint[], options: GrowthOptions = {}): GrowthEstimate {
  const n = points.length;
  if (n < MIN_GROWTH_POINTS) {
    return { state: 'insufficient-data', points: n, reason: `need at least ${String(MIN_GROWTH_POINTS)} batches, got ${String(n)}; run more batches` };
  }
  const fit = fitPooledSlope([points.map((p) => ({ x: p.cumulativeOperations, y: p.memoryBytes }))], options.confidence ?? GROWTH_CONFIDENCE);
  if (fit.state === 'insufficient-data') {
    return { state: 'insufficient-data', points: n, reason: 'every batch has the same operation count; take samples after different amounts of work' };
  }
  const thresholdBytesPerOp = options.thresholdBytesPerOp ?? DEFAULT_GROWTH_THRESHOLD_BYTES_PER_OP;
  const noGrowth = fit.ci.low <= 0 || fit.slope < thresholdBytesPerOp;
  return {
    state: 'estimated',
    points: n,
    slopeBytesPerOp: fit.slope,
    interceptBytes: fit.intercept,
    standardError: fit.standardError,
    degreesOfFreedom: fit.degreesOfFreedom,
    confidence: fit.confidence,
    ci: fit.ci,
    thresholdBytesPerOp,
    verdict: noGrowth ? 'no-sustained-growth' : 'sustained-growth',
  };
}

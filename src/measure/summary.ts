/**
 * Latency summaries: the figures reports and thresholds read, in milliseconds, from histograms
 * recorded in microseconds.
 */
import { decodeHistogram, type Histogram } from './histogram.ts';

/** The percentiles every summary carries (percent), in the order reports print them. */
export const SUMMARY_PERCENTILES = { p50: 50, p75: 75, p90: 90, p95: 95, p99: 99, p999: 99.9 } as const;

export type PercentileKey = keyof typeof SUMMARY_PERCENTILES;

/** Plain latency statistics in milliseconds; `count` is the number of recorded values. */
export type LatencySummary = { count: number; min: number; mean: number; stdev: number; max: number } & Record<
  PercentileKey,
  number
>;

const MICROS_PER_MILLI = 1000;

function toMillis(micros: number): number {
  // Values are whole microseconds; rounding keeps JSON free of binary noise like 1.2340000000000002.
  return Math.round(micros) / MICROS_PER_MILLI;
}

/** Summarises a µs histogram in ms; null when nothing was recorded (an empty run has no p99). */
export function summarize(histogram: Histogram): LatencySummary | null {
  const count = histogram.totalCount;
  if (count === 0) return null;
  // Bucket edges, not the raw extremes: a decoded histogram only knows buckets, so live and
  // decoded histograms summarise identically (within 0.1%, the 3 significant digits).
  const at = (percent: number): number => toMillis(histogram.getValueAtPercentile(percent));
  return {
    count,
    min: at(0),
    mean: toMillis(histogram.mean),
    stdev: toMillis(histogram.stdDeviation),
    p50: at(SUMMARY_PERCENTILES.p50),
    p75: at(SUMMARY_PERCENTILES.p75),
    p90: at(SUMMARY_PERCENTILES.p90),
    p95: at(SUMMARY_PERCENTILES.p95),
    p99: at(SUMMARY_PERCENTILES.p99),
    p999: at(SUMMARY_PERCENTILES.p999),
    max: at(100),
  };
}

/** Summarises an encoded histogram (the form results carry). */
export function summarizeEncoded(encoded: string): LatencySummary | null {
  return summarize(decodeHistogram(encoded));
}

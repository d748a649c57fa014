/**
 * Latency histograms: HDR (hdr-histogram-js), values in microseconds, 3 significant digits.
 * Record per worker or per interval, ship encoded, merge at the end.
 */
import * as hdr from 'hdr-histogram-js';

export type Histogram = hdr.Histogram;

/** Lowest value told apart: 1 µs. */
export const HISTOGRAM_LOWEST_MICROS = 1;
/** Highest value tracked without resizing: 10 minutes, in µs (auto-resize covers anything longer). */
export const HISTOGRAM_HIGHEST_MICROS = 600_000_000;
/** Relative precision of 0.1%: 3 significant digits. */
export const HISTOGRAM_SIGNIFICANT_DIGITS = 3;

/** A fresh latency histogram in microseconds. */
export function createLatencyHistogram(): Histogram {
  return hdr.build({
    lowestDiscernibleValue: HISTOGRAM_LOWEST_MICROS,
    highestTrackableValue: HISTOGRAM_HIGHEST_MICROS,
    numberOfSignificantValueDigits: HISTOGRAM_SIGNIFICANT_DIGITS,
    autoResize: true,
    bitBucketSize: 32,
    useWebAssembly: false,
  });
}

/** Records a latency given in milliseconds (fractional), clamped to at least 1 µs. */
export function recordMillis(histogram: Histogram, millis: number): void {
  histogram.recordValue(Math.max(HISTOGRAM_LOWEST_MICROS, Math.round(millis * 1000)));
}

/** Compressed base64, the HdrHistogram interchange format: what results carry. */
export function encodeHistogram(histogram: Histogram): string {
  return hdr.encodeIntoCompressedBase64(histogram);
}

export function decodeHistogram(encoded: string): Histogram {
  const decoded = hdr.decodeFromCompressedBase64(encoded, 32, false);
  // Decoded histograms keep the encoder's range; re-home them so merges can grow.
  const histogram = createLatencyHistogram();
  histogram.add(decoded);
  decoded.destroy();
  return histogram;
}

/** A new histogram holding every value of the inputs; inputs are left unchanged. */
export function mergeHistograms(histograms: Iterable<Histogram>): Histogram {
  const merged = createLatencyHistogram();
  for (const h of histograms) merged.add(h);
  return merged;
}

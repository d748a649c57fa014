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

/** Decodes, merges and re-encodes: one encoded histogram holding every value of the inputs. */
export function mergeEncodedHistograms(encoded: Iterable<string>): string {
  const merged = createLatencyHistogram();
  for (const item of encoded) merged.add(decodeHistogram(item));
  return encodeHistogram(merged);
}

/**
 * Merges maps of encoded histograms key by key (per instance, per route, ...): the shape workers
 * ship, e.g. `[{ 'i-1': h, 'i-2': h }, { 'i-1': h }]` -> `{ 'i-1': h1+h1', 'i-2': h }`.
 */
export function mergeEncodedByKey(maps: Iterable<Readonly<Record<string, string>>>): Record<string, string> {
  const grouped = new Map<string, string[]>();
  for (const map of maps) {
    for (const [key, encoded] of Object.entries(map)) {
      const list = grouped.get(key);
      if (list) list.push(encoded);
      else grouped.set(key, [encoded]);
    }
  }
  const merged: Record<string, string> = {};
  for (const [key, list] of grouped) merged[key] = mergeEncodedHistograms(list);
  return merged;
}

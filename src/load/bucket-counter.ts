/**
 * The hot path's latency recorder: a flat array of counts laid out exactly as an HDR histogram
 * with 3 significant digits (2048 sub-buckets, 1 µs unit) lays out its buckets, so recording is
 * one index computation and one increment. `flushInto` replays the counts into a real HDR
 * histogram, which then holds exactly what direct recording would have put there.
 */
import { createLatencyHistogram, encodeHistogram } from '../measure/histogram.ts';
import type { Histogram } from '../measure/histogram.ts';

const SUB_BUCKET_HALF_MAGNITUDE = 10; // 2048 sub-buckets: the layout of 3 significant digits
const SUB_BUCKET_HALF_COUNT = 1 << SUB_BUCKET_HALF_MAGNITUDE;
const SUB_BUCKET_MASK = 2 * SUB_BUCKET_HALF_COUNT - 1;
/** Values from 2^31 µs (~36 minutes) on skip the array and go straight to the histogram. */
const MAX_FAST_VALUE = 0x7fffffff;
const LENGTH = (22 << SUB_BUCKET_HALF_MAGNITUDE);

export class BucketCounter {
  total = 0;
  readonly #counts = new Uint32Array(LENGTH);
  #overflow: number[] = [];

  /** Records a latency in ms, as µs with a 1 µs floor (as `recordMillis` does). */
  recordMillis(ms: number): void {
    const v = Math.round(ms * 1000);
    this.recordMicros(v < 1 ? 1 : v);
  }

  /** Records a whole number of µs, 0 included (lateness: on time is exactly 0). */
  recordMicros(v: number): void {
    this.total++;
    if (v > MAX_FAST_VALUE) {
      this.#overflow.push(v);
      return;
    }
    const bucket = 21 - Math.clz32(v | SUB_BUCKET_MASK);
    const index = ((bucket + 1) << SUB_BUCKET_HALF_MAGNITUDE) + ((v >>> bucket) - SUB_BUCKET_HALF_COUNT);
    this.#counts[index] = (this.#counts[index] ?? 0) + 1;
  }

  /** Adds every recorded value to `histogram` and empties this counter. */
  flushInto(histogram: Histogram): void {
    if (this.total === 0) return;
    const counts = this.#counts;
    for (let i = 0; i < LENGTH; i++) {
      const n = counts[i] ?? 0;
      if (n === 0) continue;
      let bucket = (i >> SUB_BUCKET_HALF_MAGNITUDE) - 1;
      let sub = (i & (SUB_BUCKET_HALF_COUNT - 1)) + SUB_BUCKET_HALF_COUNT;
      if (bucket < 0) {
        sub -= SUB_BUCKET_HALF_COUNT;
        bucket = 0;
      }
      histogram.recordValueWithCount(sub * 2 ** bucket, n);
    }
    for (const v of this.#overflow) histogram.recordValue(v);
    counts.fill(0);
    this.#overflow = [];
    this.total = 0;
  }
}

/** The counter's values as an encoded HDR histogram (µs), the form results carry. */
export function encodeBucketCounter(counter: BucketCounter): string {
  const histogram = createLatencyHistogram();
  counter.flushInto(histogram);
  const encoded = encodeHistogram(histogram);
  histogram.destroy();
  return encoded;
}

/**
 * Per-interval latency series for charts: fixed buckets (1 s by default) of count, errors and
 * latency percentiles, each carrying its encoded histogram so series from workers merge exactly.
 */
import { createLatencyHistogram, encodeHistogram, mergeEncodedHistograms, recordMillis } from './histogram.ts';
import { summarizeEncoded } from './summary.ts';

/** Default bucket width of a series: one second. */
export const DEFAULT_SERIES_INTERVAL_MS = 1000;

/** One bucket; `startMs` is relative to the run's origin. Latencies are null when nothing completed. */
export interface IntervalPoint {
  startMs: number;
  count: number;
  errors: number;
  p50: number | null;
  p99: number | null;
  max: number | null;
  /** Encoded µs histogram of this interval (HdrHistogram compressed base64). */
  histogram: string;
}

export interface LatencySeries {
  intervalMs: number;
  points: IntervalPoint[];
}

export interface IntervalRecorderOptions {
  intervalMs?: number;
  /** Run start on the `now` clock; bucket 0 begins here. Defaults to `now()` at construction. */
  originMs?: number;
  now?: () => number;
}

function pointFrom(startMs: number, count: number, errors: number, encoded: string): IntervalPoint {
  const summary = summarizeEncoded(encoded);
  return { startMs, count, errors, p50: summary?.p50 ?? null, p99: summary?.p99 ?? null, max: summary?.max ?? null, histogram: encoded };
}

/**
 * Records completions into interval buckets. Only the current bucket's histogram is live (an HDR
 * histogram is ~85 kB); earlier buckets are sealed as encoded strings. Times must not go backwards.
 */
export class IntervalRecorder {
  readonly #intervalMs: number;
  readonly #originMs: number;
  readonly #now: () => number;
  readonly #sealed: IntervalPoint[] = [];
  readonly #live = createLatencyHistogram();
  #liveIndex = 0;
  #liveCount = 0;
  #liveErrors = 0;

  constructor(options: IntervalRecorderOptions = {}) {
    this.#intervalMs = options.intervalMs ?? DEFAULT_SERIES_INTERVAL_MS;
    if (!(this.#intervalMs > 0)) throw new RangeError(`intervalMs must be > 0, got ${this.#intervalMs}`);
    this.#now = options.now ?? (() => performance.now());
    this.#originMs = options.originMs ?? this.#now();
  }

  /** A completed request with its latency in ms, at `atMs` (default: now). */
  recordLatency(latencyMs: number, atMs: number = this.#now()): void {
    this.#advanceTo(atMs);
    recordMillis(this.#live, latencyMs);
    this.#liveCount++;
  }

  /** A failed request (no latency), at `atMs` (default: now). */
  recordError(atMs: number = this.#now()): void {
    this.#advanceTo(atMs);
    this.#liveErrors++;
  }

  /** The series so far, including the current bucket; gaps are filled with empty points. */
  series(): LatencySeries {
    return {
      intervalMs: this.#intervalMs,
      points: [...this.#sealed, pointFrom(this.#liveIndex * this.#intervalMs, this.#liveCount, this.#liveErrors, encodeHistogram(this.#live))],
    };
  }

  #advanceTo(atMs: number): void {
    const index = Math.max(0, Math.floor((atMs - this.#originMs) / this.#intervalMs));
    if (index < this.#liveIndex) {
      throw new RangeError(`record time ${atMs} falls in interval ${index}, already sealed; record in time order`);
    }
    while (this.#liveIndex < index) {
      this.#sealed.push(pointFrom(this.#liveIndex * this.#intervalMs, this.#liveCount, this.#liveErrors, encodeHistogram(this.#live)));
      this.#live.reset();
      this.#liveCount = 0;
      this.#liveErrors = 0;
      this.#liveIndex++;
    }
  }
}

/** Merges series (per worker or instance) bucket by bucket; all must share the interval width. */
export function mergeSeries(series: readonly LatencySeries[]): LatencySeries {
  const first = series[0];
  if (!first) return { intervalMs: DEFAULT_SERIES_INTERVAL_MS, points: [] };
  const byStart = new Map<number, IntervalPoint[]>();
  for (const s of series) {
    if (s.intervalMs !== first.intervalMs) {
      throw new RangeError(`cannot merge series with intervals ${first.intervalMs} ms and ${s.intervalMs} ms; record with one interval`);
    }
    for (const point of s.points) {
      const list = byStart.get(point.startMs);
      if (list) list.push(point);
      else byStart.set(point.startMs, [point]);
    }
  }
  const lastIndex = Math.round(Math.max(-1, ...byStart.keys()) / first.intervalMs);
  const points: IntervalPoint[] = [];
  for (let index = 0; index <= lastIndex; index++) {
    const startMs = index * first.intervalMs;
    const group = byStart.get(startMs) ?? [];
    points.push(
      pointFrom(
        startMs,
        group.reduce((sum, p) => sum + p.count, 0),
        group.reduce((sum, p) => sum + p.errors, 0),
        mergeEncodedHistograms(group.map((p) => p.histogram)),
      ),
    );
  }
  return { intervalMs: first.intervalMs, points };
}

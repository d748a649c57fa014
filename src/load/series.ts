/** Per-interval series (e.g. 1 s buckets) for charts: counts, errors and a latency histogram each. */
import { BucketCounter, encodeBucketCounter } from './bucket-counter.ts';

/** One bucket; `startMs` is from the start of the run. */
export interface IntervalBucket {
  startMs: number;
  /** Requests handed to the client in this bucket. */
  sent: number;
  /** Requests due in this bucket but dropped at the in-flight cap. */
  dropped: number;
  /** Requests that ended (response or error) in this bucket. */
  completed: number;
  errors: number;
  /** Mean and max latency of responses: corrected where the model has a schedule, else uncorrected. */
  latencyMeanMs: number | null;
  latencyMaxMs: number | null;
  /** Encoded histogram of those latencies (null when recording is off or empty). */
  latency: string | null;
}

/** Accumulates buckets; events must arrive in clock order (they do: one clock, one loop). */
export class IntervalSeries {
  readonly buckets: IntervalBucket[] = [];
  readonly #originMs: number;
  readonly #intervalMs: number;
  readonly #histogram: BucketCounter | null;
  #index = 0;
  #sent = 0;
  #dropped = 0;
  #completed = 0;
  #errors = 0;
  #latencySum = 0;
  #latencyCount = 0;
  #latencyMax = 0;

  constructor(originMs: number, intervalMs: number, recordHistogram: boolean) {
    this.#originMs = originMs;
    this.#intervalMs = intervalMs;
    this.#histogram = recordHistogram ? new BucketCounter() : null;
  }

  sent(atMs: number): void {
    this.#roll(atMs);
    this.#sent++;
  }

  dropped(atMs: number): void {
    this.#roll(atMs);
    this.#dropped++;
  }

  completed(atMs: number, latencyMs: number): void {
    this.#roll(atMs);
    this.#completed++;
    this.#latencySum += latencyMs;
    this.#latencyCount++;
    if (latencyMs > this.#latencyMax) this.#latencyMax = latencyMs;
    this.#histogram?.recordMillis(latencyMs);
  }

  failed(atMs: number): void {
    this.#roll(atMs);
    this.#completed++;
    this.#errors++;
  }

  /** Closes the current bucket; call once at the end of the run. */
  finish(): IntervalBucket[] {
    this.#close();
    return this.buckets;
  }

  #roll(atMs: number): void {
    const index = Math.floor((atMs - this.#originMs) / this.#intervalMs);
    // Bounded: one iteration per elapsed interval of a run that is itself bounded in time.
    while (this.#index < index) {
      this.#close();
      this.#index++;
    }
  }

  #close(): void {
    const h = this.#histogram;
    const n = this.#latencyCount;
    this.buckets.push({
      startMs: this.#index * this.#intervalMs,
      sent: this.#sent,
      dropped: this.#dropped,
      completed: this.#completed,
      errors: this.#errors,
      latencyMeanMs: n === 0 ? null : this.#latencySum / n,
      latencyMaxMs: n === 0 ? null : this.#latencyMax,
      latency: h === null || n === 0 ? null : encodeBucketCounter(h),
    });
    this.#sent = this.#dropped = this.#completed = this.#errors = this.#latencyCount = 0;
    this.#latencySum = this.#latencyMax = 0;
  }
}



/** Turns ended exchanges into aggregates: histograms, counts, series and (optionally) records. */
import { BucketCounter, encodeBucketCounter } from './bucket-counter.ts';
import { ERROR_KINDS } from './errors.ts';
import type { ErrorKind } from './errors.ts';
import type { Exchange } from './exchange.ts';
import { RecordStore } from './records.ts';
import type { RequestRecords } from './records.ts';
import { IntervalSeries } from './series.ts';
import type { IntervalBucket } from './series.ts';

export interface RecorderOptions {
  intervalMs: number;
  recordHistograms: boolean;
  keepRecords: boolean;
  maxRecords: number;
  /** False where there is no schedule to correct against (closed model): `corrected` is then null. */
  correctedLatency: boolean;
}

/** The aggregates of a run, as plain data. */
export interface RecordedTotals {
  sent: number;
  completed: number;
  dropped: number;
  errors: number;
  /** Response body bytes received. */
  bytes: number;
  statusCounts: Record<string, number>;
  errorCounts: Record<ErrorKind, number>;
  /** First error message of each kind seen, to say what went wrong. */
  errorSamples: Partial<Record<ErrorKind, string>>;
  instanceCounts: Record<string, number>;
  /**
   * Encoded HDR histograms (µs) of responses: `corrected` from the intended send time (open model,
   * burst), `uncorrected` from when the request was written to a socket.
   */
  latency: { corrected: string | null; uncorrected: string | null };
  series: IntervalBucket[];
  records: RequestRecords | null;
}

const MAX_STATUS = 1000;

export class Recorder {
  sent = 0;
  completed = 0;
  dropped = 0;
  errors = 0;
  bytes = 0;
  /** Clock time of the last send and the last end (ms), for rates. */
  lastSentMs = Number.NaN;
  lastDoneMs = Number.NaN;
  readonly #corrected: BucketCounter | null;
  readonly #uncorrected: BucketCounter | null;
  readonly #status = new Uint32Array(MAX_STATUS);
  readonly #errors = new Uint32Array(ERROR_KINDS.length + 1);
  readonly #errorSamples: Partial<Record<ErrorKind, string>> = {};
  readonly #instances = new Map<string, number>();
  readonly #series: IntervalSeries;
  readonly #records: RecordStore | null;
  readonly #useCorrected: boolean;

  constructor(originMs: number, options: RecorderOptions) {
    this.#corrected = options.recordHistograms && options.correctedLatency ? new BucketCounter() : null;
    this.#uncorrected = options.recordHistograms ? new BucketCounter() : null;
    this.#useCorrected = options.correctedLatency;
    this.#series = new IntervalSeries(originMs, options.intervalMs, options.recordHistograms);
    this.#records = options.keepRecords ? new RecordStore(originMs, options.maxRecords) : null;
  }

  recordSent(atMs: number): void {
    this.sent++;
    this.lastSentMs = atMs;
    this.#series.sent(atMs);
  }

  recordDropped(atMs: number): void {
    this.dropped++;
    this.#series.dropped(atMs);
  }

  /** Records an ended exchange; `errorCode` 0 = response, else 1 + index into ERROR_KINDS. */
  recordEnd(ex: Exchange, doneMs: number, errorCode: number, error: Error | null): void {
    this.completed++;
    this.lastDoneMs = doneMs;
    if (errorCode === 0) {
      // sentMs is NaN only if undici never reported the write; then the hand-over time stands in.
      const uncorrected = doneMs - (ex.sentMs === ex.sentMs ? ex.sentMs : ex.dispatchedMs);
      const corrected = doneMs - ex.intendedMs;
      this.bytes += ex.bytes;
      const slot = ex.status < MAX_STATUS ? ex.status : 0;
      this.#status[slot] = (this.#status[slot] ?? 0) + 1;
      this.#corrected?.recordMillis(corrected);
      this.#uncorrected?.recordMillis(uncorrected);
      if (ex.instance !== undefined) this.#instances.set(ex.instance, (this.#instances.get(ex.instance) ?? 0) + 1);
      this.#series.completed(doneMs, this.#useCorrected ? corrected : uncorrected);
    } else {
      this.errors++;
      this.#errors[errorCode] = (this.#errors[errorCode] ?? 0) + 1;
      const kind = ERROR_KINDS[errorCode - 1] ?? 'other';
      if (error !== null && this.#errorSamples[kind] === undefined) this.#errorSamples[kind] = error.message;
      this.#series.failed(doneMs);
    }
    this.#records?.add(ex.intendedMs, ex.sentMs, doneMs, errorCode === 0 ? ex.status : 0, ex.bytes, errorCode, ex.instance);
  }

  /** Closes the series and encodes everything; call once. */
  finish(): RecordedTotals {
    const statusCounts: Record<string, number> = {};
    this.#status.forEach((n, status) => {
      if (n > 0) statusCounts[String(status)] = n;
    });
    const errorCounts = Object.fromEntries(ERROR_KINDS.map((k, i) => [k, this.#errors[i + 1] ?? 0])) as Record<ErrorKind, number>;
    const latency = { corrected: encodeCounter(this.#corrected), uncorrected: encodeCounter(this.#uncorrected) };
    return {
      sent: this.sent,
      completed: this.completed,
      dropped: this.dropped,
      errors: this.errors,
      bytes: this.bytes,
      statusCounts,
      errorCounts,
      errorSamples: this.#errorSamples,
      instanceCounts: Object.fromEntries(this.#instances),
      latency,
      series: this.#series.finish(),
      records: this.#records?.toPlain() ?? null,
    };
  }
}

function encodeCounter(counter: BucketCounter | null): string | null {
  return counter === null ? null : encodeBucketCounter(counter);
}

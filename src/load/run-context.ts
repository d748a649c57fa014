/**
 * What the three generators share: options, the transport's lifecycle, in-flight accounting,
 * cancellation, draining and the result. Every wait here is bounded by a timer.
 */
import { systemClock } from '../clock.ts';
import { summarizeEncoded } from '../measure/summary.ts';
import type { Clock, TimerHandle } from '../clock.ts';
import { LOAD_DEFAULTS, SATURATION_BOUNDS } from './defaults.ts';
import type { SaturationBounds } from './defaults.ts';
import { Exchange } from './exchange.ts';
import type { ExchangeOwner } from './exchange.ts';
import { Recorder } from './recorder.ts';
import type { RecordedTotals } from './recorder.ts';
import type { RequestFactory, RequestSpec } from './request.ts';
import { judgeSaturation, SelfCheck } from './self-check.ts';
import type { GeneratorSaturation } from './self-check.ts';
import { createPoolTransport } from './transport.ts';
import type { Transport } from './transport.ts';

/** Options every generator takes. */
export interface CommonLoadOptions {
  /** An origin (`http://127.0.0.1:3000`): the run opens and closes its own pool. Or a Transport the caller owns. */
  target: string | Transport;
  request: RequestFactory;
  connections?: number;
  pipelining?: number;
  timeoutMs?: number;
  /** Largest response body read; past it the request is a `body-too-large` error (Infinity: no limit). */
  maxBodyBytes?: number;
  /** Response header naming the instance; '' to not look. */
  instanceHeader?: string;
  intervalMs?: number;
  recordHistograms?: boolean;
  keepRecords?: boolean;
  maxRecords?: number;
  drainTimeoutMs?: number;
  saturationBounds?: SaturationBounds;
  clock?: Clock;
  signal?: AbortSignal;
  /** Called once at the start with a reader of the live totals (for progress lines); costs nothing per request. */
  onStart?: (live: () => LiveTotals) => void;
}

/** Running totals of a generator, readable while it runs. */
export interface LiveTotals {
  sent: number;
  completed: number;
  errors: number;
  dropped: number;
}

export type RunOutcome =
  | { state: 'completed' }
  | { state: 'aborted'; reason: string }
  | { state: 'drain-timeout'; inFlight: number; drainTimeoutMs: number };

/** What a generator returns: plain serialisable data. */
export interface LoadResult extends RecordedTotals {
  model: 'open' | 'closed' | 'burst';
  outcome: RunOutcome;
  /** From the start to the last response or error. */
  durationMs: number;
  /** Open model: requests sent per second; closed and burst: responses per second. */
  achievedRate: number;
  targetRate: number | null;
  /** Encoded histogram (µs) of how late each send was against its schedule (open model). */
  lateness: string | null;
  generatorSaturated: GeneratorSaturation;
}

export class RunContext implements ExchangeOwner {
  readonly clock: Clock;
  readonly transport: Transport;
  readonly recorder: Recorder;
  readonly selfCheck: SelfCheck;
  readonly startMs: number;
  readonly instanceHeader: string;
  inFlight = 0;
  stopped = false;
  outcome: RunOutcome = { state: 'completed' };
  /** Set by the generator: what to do when an exchange ends (after it is recorded). */
  onEnded: (ex: Exchange, failed: boolean) => void = () => undefined;
  readonly #ownsTransport: boolean;
  readonly #options: CommonLoadOptions;
  #drained: (() => void) | null = null;
  #onStop: (() => void) | null = null;
  #finished = false;
  #unwatch: (() => void) | null = null;

  constructor(options: CommonLoadOptions, correctedLatency: boolean, pinned = false) {
    this.#options = options;
    this.clock = options.clock ?? systemClock;
    this.#ownsTransport = typeof options.target === 'string';
    this.transport = typeof options.target === 'string'
      ? createPoolTransport(options.target, {
          connections: options.connections ?? LOAD_DEFAULTS.connections,
          pipelining: options.pipelining ?? LOAD_DEFAULTS.pipelining,
          timeoutMs: options.timeoutMs ?? LOAD_DEFAULTS.timeoutMs,
          maxBodyBytes: options.maxBodyBytes ?? LOAD_DEFAULTS.maxBodyBytes,
          pinned,
        })
      : options.target;
    this.instanceHeader = options.instanceHeader ?? LOAD_DEFAULTS.instanceHeader;
    this.startMs = this.clock.now();
    this.recorder = new Recorder(this.startMs, {
      intervalMs: options.intervalMs ?? LOAD_DEFAULTS.intervalMs,
      recordHistograms: options.recordHistograms ?? LOAD_DEFAULTS.recordHistograms,
      keepRecords: options.keepRecords ?? LOAD_DEFAULTS.keepRecords,
      maxRecords: options.maxRecords ?? LOAD_DEFAULTS.maxRecords,
      correctedLatency,
    });
    // Last, so a constructor that throws above leaves no monitor running.
    this.selfCheck = new SelfCheck();
    const recorder = this.recorder;
    options.onStart?.(() => ({ sent: recorder.sent, completed: recorder.completed, errors: recorder.errors, dropped: recorder.dropped }));
  }

  newExchange(lane = 0): Exchange {
    const ex = new Exchange(this, this.clock, this.instanceHeader);
    ex.lane = lane;
    return ex;
  }

  /** Builds the request for `ex.index` and hands it to the client; a factory that throws aborts the run. */
  dispatch(ex: Exchange): void {
    let spec: RequestSpec;
    try {
      spec = this.#options.request(ex.index);
    } catch (error) {
      // Thrown from a timer or an undici callback it would kill the process; it ends the run, said so.
      this.abort(new Error(`the request factory threw for request ${ex.index}: ${error instanceof Error ? error.message : String(error)}`));
      return;
    }
    this.inFlight++;
    this.recorder.recordSent(ex.dispatchedMs);
    this.transport.dispatch(spec, ex, ex.lane);
  }

  exchangeEnded(ex: Exchange, errorCode: number, error: Error | null): void {
    if (this.#finished) return;
    this.inFlight--;
    this.recorder.recordEnd(ex, this.clock.now(), errorCode, error);
    this.onEnded(ex, errorCode !== 0);
    if (this.inFlight === 0 && this.#drained !== null) this.#drained();
  }

  /** Registers what stops the generator's own loop (its timer); abort calls it too. */
  watchAbort(stopLoop: () => void): void {
    this.#onStop = stopLoop;
    const signal = this.#options.signal;
    if (signal === undefined) return;
    if (signal.aborted) {
      this.abort(signal.reason);
      return;
    }
    const onAbort = (): void => this.abort(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    // A long-lived signal shared by many runs must not keep each finished run alive.
    this.#unwatch = () => signal.removeEventListener('abort', onAbort);
  }

  /** Stops sending and fails what is in flight (only an owned pool is destroyed). */
  abort(reason: unknown): void {
    if (this.stopped && this.outcome.state !== 'completed') return;
    this.stopped = true;
    this.outcome = { state: 'aborted', reason: reason instanceof Error ? reason.message : String(reason) };
    this.#onStop?.();
    if (this.#ownsTransport) void this.transport.destroy();
    else this.#drained?.();
  }

  /** Waits until nothing is in flight, at most `drainTimeoutMs`; then destroys an owned pool. */
  async drain(): Promise<void> {
    if (this.inFlight > 0 && !(this.outcome.state === 'aborted' && !this.#ownsTransport)) {
      const limit = this.#options.drainTimeoutMs ?? LOAD_DEFAULTS.drainTimeoutMs;
      let timer: TimerHandle | undefined;
      await new Promise<void>((resolve) => {
        this.#drained = resolve;
        timer = this.clock.setTimeout(() => {
          if (this.outcome.state === 'completed') this.outcome = { state: 'drain-timeout', inFlight: this.inFlight, drainTimeoutMs: limit };
          resolve();
        }, limit);
      });
      timer?.cancel();
      this.#drained = null;
    }
    if (!this.#ownsTransport) return;
    if (this.outcome.state === 'completed') await this.transport.close();
    else await this.transport.destroy();
  }

  /** Assembles the result; rates in requests per second. */
  finish(model: LoadResult['model'], rates: { achievedRate: number; targetRate: number | null }): LoadResult {
    this.#finished = true;
    this.#unwatch?.();
    const self = this.selfCheck.finish();
    const totals = this.recorder.finish();
    const last = Math.max(this.recorder.lastDoneMs || 0, this.recorder.lastSentMs || 0, this.startMs);
    return {
      model,
      outcome: this.outcome,
      durationMs: last - this.startMs,
      ...rates,
      ...totals,
      lateness: self.lateness,
      generatorSaturated: judgeSaturation(
        {
          latenessP99Ms: self.latenessP99Ms,
          latencyP99Ms: totals.latency.corrected === null ? null : (summarizeEncoded(totals.latency.corrected)?.p99 ?? null),
          eventLoopDelayP99Ms: self.eventLoopDelayP99Ms,
          ...rates,
        },
        this.#options.saturationBounds ?? SATURATION_BOUNDS,
      ),
    };
  }
}

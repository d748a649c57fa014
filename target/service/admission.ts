/**
 * Admission control: under more load than it can serve, an instance refuses new requests at once
 * (503 + Retry-After, before any work) instead of queueing them without bound.
 *
 * Two signals. In-flight requests, for waits off the event loop (a slow store): past `maxInFlight`
 * the next one is refused. Event-loop lag, for CPU saturation: node:http reads a request only when
 * the loop gets to it, so the lag is how long arrivals wait before anyone looks at them. As CoDel does
 * with queue delay, a lag above `lagTargetMs` is tolerated for `lagIntervalMs` (a burst that drains
 * in time is served); when it persists, new requests are shed until the lag falls back under the
 * target, and shedding resumes at once if it rises again right after (within a fifth of the interval:
 * a standing overload refills the loop within a turn or two, while a lone spike later is noise).
 * The lag is known from a timer's lateness and, between its runs, from how overdue the next run is.
 */
import type { AdmissionConfig } from '../config.ts';

export type ShedReason = 'in_flight' | 'lag';

export type AdmissionDecision = { readonly admitted: true } | { readonly admitted: false; readonly reason: ShedReason };

/** How often the lag sampler's timer is due. */
export const LAG_SAMPLE_PERIOD_MS = 10;
/** Shedding resumes at once when the lag rises again within this share of `lagIntervalMs` after it stopped. */
export const RESUME_WINDOW_SHARE = 0.2;
/**
 * The lag counts as back under the target only after staying there this long (five samples): a loop
 * saturated by an overload alternates long and short turns, and one short turn is not a drained queue.
 */
export const LAG_CLEAR_MS = 50;

export class AdmissionControl {
  #inFlight = 0;
  /** Since when the lag has been above target (not cleared by LAG_CLEAR_MS under it); null when under. */
  #aboveSinceMs: number | null = null;
  /** Since when the samples have been under the target; null while above. */
  #belowSinceMs: number | null = null;
  #lastLagMs = 0;
  #nextDueMs: number | null = null;
  #lastShedEndMs = Number.NEGATIVE_INFINITY;
  #shedding = false;

  constructor(
    private readonly config: AdmissionConfig,
    private readonly now: () => number,
  ) {
    if (!(Number.isInteger(config.maxInFlight) && config.maxInFlight >= 0)) {
      throw new RangeError(`admission.maxInFlight must be an integer >= 0 (0 = no limit), got ${config.maxInFlight}`);
    }
    if (!(config.lagTargetMs >= 0 && config.lagIntervalMs >= 0)) {
      throw new RangeError(`admission.lagTargetMs and lagIntervalMs must be >= 0, got ${config.lagTargetMs} and ${config.lagIntervalMs}`);
    }
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  /** The lag estimate admission decides on (ms). */
  lagMs(): number {
    const overdue = this.#nextDueMs === null ? 0 : this.now() - this.#nextDueMs;
    return Math.max(overdue, this.#lastLagMs);
  }

  /** Lag-based shedding is on: the sampler should run. */
  get watchesLag(): boolean {
    return this.config.lagTargetMs > 0;
  }

  /** The sampler's timer due at `dueMs` ran now; the next one is due at `nextDueMs`. */
  sampled(dueMs: number, nextDueMs: number): void {
    const now = this.now();
    const lag = Math.max(0, now - dueMs);
    this.#lastLagMs = lag;
    this.#nextDueMs = nextDueMs;
    if (lag > this.config.lagTargetMs) {
      this.#aboveSinceMs ??= dueMs;
      this.#belowSinceMs = null;
      return;
    }
    this.#belowSinceMs ??= now;
    if (now - this.#belowSinceMs < LAG_CLEAR_MS) return;
    this.#aboveSinceMs = null;
    if (this.#shedding) this.#lastShedEndMs = now;
    this.#shedding = false;
  }

  /** Admits (and counts in flight) or refuses one request; an admitted one must be `release`d. */
  tryAdmit(): AdmissionDecision {
    if (this.config.maxInFlight > 0 && this.#inFlight >= this.config.maxInFlight) return { admitted: false, reason: 'in_flight' };
    if (this.#shedsForLag()) return { admitted: false, reason: 'lag' };
    this.#inFlight += 1;
    return { admitted: true };
  }

  release(): void {
    this.#inFlight = Math.max(0, this.#inFlight - 1);
  }

  #shedsForLag(): boolean {
    if (!this.watchesLag) return false;
    const now = this.now();
    const overdue = this.#nextDueMs === null ? 0 : now - this.#nextDueMs;
    if (Math.max(overdue, this.#lastLagMs) <= this.config.lagTargetMs) return false;
    // Overdue past the target with the last sample under it: the loop has been busy since the timer was due.
    const aboveSince = this.#aboveSinceMs ?? (overdue > this.config.lagTargetMs && this.#nextDueMs !== null ? this.#nextDueMs : now);
    const persisted = now - aboveSince >= this.config.lagIntervalMs;
    const resumed = now - this.#lastShedEndMs < this.config.lagIntervalMs * RESUME_WINDOW_SHARE;
    if (!persisted && !resumed) return false;
    this.#shedding = true;
    return true;
  }
}

/** Feeds `control` with the lateness of a timer due every `periodMs`; returns the stop function. */
export function startLagSampler(control: AdmissionControl, now: () => number, periodMs = LAG_SAMPLE_PERIOD_MS): () => void {
  let due = now() + periodMs;
  let timer: NodeJS.Timeout | undefined;
  const fire = (): void => {
    const next = now() + periodMs;
    control.sampled(due, next);
    due = next;
    timer = setTimeout(fire, periodMs).unref();
  };
  control.sampled(due - periodMs, due);
  timer = setTimeout(fire, periodMs).unref();
  return () => clearTimeout(timer);
}

/**
 * A circuit breaker over a store that can become unavailable (a held lock, an exhausted pool, a
 * paused server). Closed: operations run. After `failureThreshold` consecutive unavailable failures
 * it opens: operations are refused at once for `coolDownMs`, so requests fail fast instead of each
 * waiting out the store. Then it is half-open: one operation probes; its success closes the circuit,
 * its failure opens it for another cool-down. Time comes from an injected clock.
 */
import type { StoreBreakerConfig } from '../config.ts';

export type BreakerState = 'closed' | 'open' | 'half-open';

/** What `admit` decided: run (a probe when half-open), or refuse with when to retry. */
export type Admission =
  | { readonly admitted: true; readonly probe: boolean }
  | { readonly admitted: false; readonly retryAfterMs: number };

export class CircuitBreaker {
  #state: BreakerState = 'closed';
  #consecutiveFailures = 0;
  #openedAtMs = 0;
  #probing = false;
  #opened = 0;

  constructor(
    private readonly config: StoreBreakerConfig,
    private readonly now: () => number,
  ) {
    if (!(Number.isInteger(config.failureThreshold) && config.failureThreshold >= 1)) {
      throw new RangeError(`storeBreaker.failureThreshold must be an integer >= 1, got ${config.failureThreshold}`);
    }
    if (!(config.coolDownMs > 0)) throw new RangeError(`storeBreaker.coolDownMs must be > 0, got ${config.coolDownMs}`);
  }

  get state(): BreakerState {
    return this.#state;
  }

  /** How many times the circuit opened (a metric). */
  get timesOpened(): number {
    return this.#opened;
  }

  /** Whether an operation may run now; an admitted one must report `succeeded`, `failed` or `abandoned`. */
  admit(): Admission {
    if (!this.config.enabled || this.#state === 'closed') return { admitted: true, probe: false };
    const elapsed = this.now() - this.#openedAtMs;
    if (this.#state === 'open' && elapsed >= this.config.coolDownMs) this.#state = 'half-open';
    if (this.#state === 'half-open' && !this.#probing) {
      this.#probing = true;
      return { admitted: true, probe: true };
    }
    // While a probe runs, the others are told to come back a cool-down later.
    return { admitted: false, retryAfterMs: this.#state === 'open' ? this.config.coolDownMs - elapsed : this.config.coolDownMs };
  }

  /** The store answered (a domain refusal such as 404 counts: the store was there to refuse). */
  succeeded(probe: boolean): void {
    if (probe) this.#probing = false;
    this.#consecutiveFailures = 0;
    this.#state = 'closed';
  }

  /** The store was unavailable. */
  failed(probe: boolean): void {
    if (probe) this.#probing = false;
    this.#consecutiveFailures += 1;
    if (!this.config.enabled) return;
    if (probe || (this.#state === 'closed' && this.#consecutiveFailures >= this.config.failureThreshold)) this.#open();
  }

  /** The operation ended without saying anything about the store (a bug, a fault injected mid-transaction). */
  abandoned(probe: boolean): void {
    if (probe) this.#probing = false;
  }

  #open(): void {
    if (this.#state !== 'open') this.#opened += 1;
    this.#state = 'open';
    this.#openedAtMs = this.now();
  }
}

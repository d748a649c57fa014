/** Backend selection for the balancer: pure, synchronous, driven only by pick/release calls. */
import type { BalancerStrategy } from '../config.ts';

/** Chooses a backend per request and tracks what is in flight; indices are positions in the backend list. */
export interface Strategy {
  /** The backend for the next request (counted as in flight), or -1 when every backend is removed. */
  acquire(): number;
  /** The request on `index` finished (any outcome). */
  release(index: number): void;
  /** Takes a backend out of rotation for good (planned removal); its in-flight requests still release. */
  remove(index: number): void;
  /** Takes a failing backend out of rotation until `readmit`; a removed one stays removed. */
  eject(index: number): void;
  readmit(index: number): void;
  inFlight(index: number): number;
  /** Neither removed nor ejected. */
  isActive(index: number): boolean;
  isEjected(index: number): boolean;
}

/**
 * Shared bookkeeping: in-flight counts, removed and ejected backends and the round-robin cursor.
 * When every backend left is ejected, they are chosen anyway (Envoy calls this panic routing): a
 * request to a backend that may have recovered beats a certain 503.
 */
abstract class BaseStrategy implements Strategy {
  protected readonly counts: number[];
  protected readonly active: boolean[];
  protected readonly ejected: boolean[];
  /** Where the next round-robin scan starts. */
  protected cursor = 0;

  constructor(protected readonly size: number) {
    if (!Number.isInteger(size) || size < 1) {
      throw new RangeError(`a balancer needs at least one backend, got ${size}`);
    }
    this.counts = new Array<number>(size).fill(0);
    this.active = new Array<boolean>(size).fill(true);
    this.ejected = new Array<boolean>(size).fill(false);
  }

  // Bound once: acquire runs per request.
  readonly #inRotation = (i: number): boolean => this.isActive(i);
  readonly #notRemoved = (i: number): boolean => this.active[i] === true;

  acquire(): number {
    const index = this.pick(this.#inRotation);
    return index === -1 ? this.pick(this.#notRemoved) : index;
  }

  /** The backend this strategy would choose among those `allowed`, counted in flight; -1 when none is. */
  protected abstract pick(allowed: (index: number) => boolean): number;

  release(index: number): void {
    const count = this.counts[index];
    if (count === undefined || count === 0) {
      throw new RangeError(`release(${index}) without a matching acquire`);
    }
    this.counts[index] = count - 1;
  }

  remove(index: number): void {
    if (index < 0 || index >= this.size) throw new RangeError(`no backend at index ${index}`);
    this.active[index] = false;
  }

  eject(index: number): void {
    if (index < 0 || index >= this.size) throw new RangeError(`no backend at index ${index}`);
    this.ejected[index] = true;
  }

  readmit(index: number): void {
    if (index < 0 || index >= this.size) throw new RangeError(`no backend at index ${index}`);
    this.ejected[index] = false;
  }

  inFlight(index: number): number {
    return this.counts[index] ?? 0;
  }

  isActive(index: number): boolean {
    return this.active[index] === true && this.ejected[index] !== true;
  }

  isEjected(index: number): boolean {
    return this.active[index] === true && this.ejected[index] === true;
  }

  protected take(index: number): number {
    this.counts[index] = (this.counts[index] ?? 0) + 1;
    this.cursor = (index + 1) % this.size;
    return index;
  }
}

/** Each active backend in turn. */
export class RoundRobin extends BaseStrategy {
  protected pick(allowed: (index: number) => boolean): number {
    for (let step = 0; step < this.size; step++) {
      const index = (this.cursor + step) % this.size;
      if (allowed(index)) return this.take(index);
    }
    return -1;
  }
}

/** The active backend with the fewest requests in flight; ties go to the next one in round-robin order. */
export class LeastConnections extends BaseStrategy {
  protected pick(allowed: (index: number) => boolean): number {
    let best = -1;
    let bestCount = Number.POSITIVE_INFINITY;
    for (let step = 0; step < this.size; step++) {
      const index = (this.cursor + step) % this.size;
      const count = this.counts[index] ?? 0;
      if (allowed(index) && count < bestCount) {
        best = index;
        bestCount = count;
      }
    }
    return best === -1 ? -1 : this.take(best);
  }
}

/** The strategy named by `kind` over `size` backends. */
export function createStrategy(kind: BalancerStrategy, size: number): Strategy {
  switch (kind) {
    case 'round-robin':
      return new RoundRobin(size);
    case 'least-connections':
      return new LeastConnections(size);
  }
}

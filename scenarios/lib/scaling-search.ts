/**
 * A short bounded search for the highest sustainable arrival rate: double from a start rate until a
 * step fails, then bisect between the last pass and the first failure. Every step is kept, so the
 * report shows how the figure was found.
 */

export interface RateSearchOptions {
  /** First rate tried (per second). */
  readonly startRate: number;
  /** Never asks for more than this: a found rate equal to it is a lower bound, not a limit. */
  readonly maxRate: number;
  /** Never asks for less than this: below it the search gives up. */
  readonly minRate: number;
  /** Most steps (each one load run). */
  readonly maxSteps: number;
  /** Stops once the failing rate is within this fraction above the passing one (0.15 = 15%). */
  readonly precision: number;
  /**
   * Probe a failing rate once more before believing it (the retry counts against maxSteps): one
   * hiccup — a GC pause, JIT warm-up on a fresh instance — must not halve the rate found.
   */
  readonly confirmFailures?: boolean;
}

export interface SearchStep<O> {
  readonly rate: number;
  readonly sustainable: boolean;
  readonly outcome: O;
}

/** Why the search stopped where it did. */
export type SearchEnd = 'precision' | 'max-rate' | 'min-rate' | 'steps';

export interface RateSearchResult<O> {
  readonly steps: readonly SearchStep<O>[];
  /** The highest sustainable step, or null when none was. */
  readonly best: SearchStep<O> | null;
  /** The lowest unsustainable step above `best`, or null when none failed above it. */
  readonly ceiling: SearchStep<O> | null;
  readonly end: SearchEnd;
}

/** Throws with the offending value when the options cannot make a bounded search. */
export function validateSearch(o: RateSearchOptions): void {
  if (!(o.minRate > 0 && o.minRate <= o.startRate && o.startRate <= o.maxRate && Number.isFinite(o.maxRate))) {
    throw new RangeError(`rate search needs 0 < minRate <= startRate <= maxRate < Infinity, got ${o.minRate} / ${o.startRate} / ${o.maxRate}`);
  }
  if (!(Number.isInteger(o.maxSteps) && o.maxSteps >= 1)) throw new RangeError(`maxSteps must be a positive integer, got ${o.maxSteps}`);
  if (!(o.precision > 0)) throw new RangeError(`precision must be > 0, got ${o.precision}`);
}

/** Runs the search with `probe` (one load step at a rate); `isSustainable` judges each outcome. */
export async function searchSustainableRate<O>(
  probe: (rate: number, step: number) => Promise<O>,
  isSustainable: (outcome: O) => boolean,
  options: RateSearchOptions,
): Promise<RateSearchResult<O>> {
  validateSearch(options);
  const steps: SearchStep<O>[] = [];
  let best: SearchStep<O> | null = null;
  let ceiling: SearchStep<O> | null = null;
  let rate = Math.round(options.startRate);
  const retried = new Set<number>();
  for (let step = 0; step < options.maxSteps; step++) {
    const outcome = await probe(rate, step);
    const done: SearchStep<O> = { rate, sustainable: isSustainable(outcome), outcome };
    steps.push(done);
    if (!done.sustainable && options.confirmFailures === true && !retried.has(rate) && step + 1 < options.maxSteps) {
      retried.add(rate);
      continue;
    }
    if (done.sustainable) best = done;
    else ceiling = done;
    const next = nextRate(best?.rate ?? null, ceiling?.rate ?? null, options);
    if (next.kind === 'stop') return { steps, best, ceiling: ceilingAbove(best, ceiling), end: next.end };
    rate = next.rate;
  }
  return { steps, best, ceiling: ceilingAbove(best, ceiling), end: 'steps' };
}

type Next = { kind: 'rate'; rate: number } | { kind: 'stop'; end: SearchEnd };

/** The next rate from the highest pass and the lowest failure so far (either may be missing). */
export function nextRate(pass: number | null, fail: number | null, o: RateSearchOptions): Next {
  if (pass !== null && fail !== null) {
    if (fail <= pass * (1 + o.precision)) return { kind: 'stop', end: 'precision' };
    return { kind: 'rate', rate: Math.round((pass + fail) / 2) };
  }
  if (pass !== null) {
    if (pass >= o.maxRate) return { kind: 'stop', end: 'max-rate' };
    return { kind: 'rate', rate: Math.min(o.maxRate, pass * 2) };
  }
  if (fail === null) throw new Error('nextRate needs at least one step');
  const down = Math.round(fail / 2);
  return down < o.minRate ? { kind: 'stop', end: 'min-rate' } : { kind: 'rate', rate: down };
}

function ceilingAbove<O>(best: SearchStep<O> | null, ceiling: SearchStep<O> | null): SearchStep<O> | null {
  if (ceiling === null) return null;
  return best === null || ceiling.rate > best.rate ? ceiling : null;
}

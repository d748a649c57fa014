/** Checks a bound threshold against the value a run measured. */
import type { Operator } from './parse.ts';
import type { Threshold } from './bind.ts';

export type ThresholdVerdict =
  | { readonly state: 'passed'; readonly actual: number }
  | { readonly state: 'failed'; readonly actual: number }
  /** The scenario did not produce the metric (it errored or was skipped): never a pass. */
  | { readonly state: 'not-measured' };

export function compare(actual: number, op: Operator, expected: number): boolean {
  switch (op) {
    case '<':
      return actual < expected;
    case '<=':
      return actual <= expected;
    case '>':
      return actual > expected;
    case '>=':
      return actual >= expected;
    case '==':
      return actual === expected;
    case '!=':
      return actual !== expected;
  }
}

export function evaluateThreshold(threshold: Threshold, actual: number | undefined): ThresholdVerdict {
  if (actual === undefined || Number.isNaN(actual)) return { state: 'not-measured' };
  return compare(actual, threshold.op, threshold.value) ? { state: 'passed', actual } : { state: 'failed', actual };
}

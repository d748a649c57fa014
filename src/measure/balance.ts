/**
 * Load balance across nodes from per-node request counts: min/max ratio, coefficient of
 * variation and Jain's fairness index (1 = perfectly even, 1/n = everything on one node).
 */

export type BalanceStats =
  | { state: 'empty'; nodes: 0 }
  | { state: 'no-traffic'; nodes: number }
  | {
      state: 'measured';
      nodes: number;
      total: number;
      min: number;
      max: number;
      mean: number;
      /** min / max: 1 when even, 0 when some node got nothing. */
      minMaxRatio: number;
      /** Population standard deviation / mean: 0 when even. */
      coefficientOfVariation: number;
      /** (Σx)² / (n·Σx²), in [1/n, 1]. */
      jainIndex: number;
      allEqual: boolean;
    };

/** Balance statistics of per-node counts (an array, or a record keyed by node id). */
export function balance(counts: readonly number[] | Readonly<Record<string, number>>): BalanceStats {
  const values: readonly number[] = Array.isArray(counts) ? counts : Object.values(counts);
  for (const value of values) {
    if (!Number.isFinite(value) || value < 0) throw new RangeError(`per-node counts must be finite and >= 0, got ${String(value)}`);
  }
  const nodes = values.length;
  if (nodes === 0) return { state: 'empty', nodes: 0 };
  const total = values.reduce((s, v) => s + v, 0);
  if (total === 0) return { state: 'no-traffic', nodes };
  const min = Math.min(...values);
  const max = Math.max(...values);
  const mean = total / nodes;
  const sumSquares = values.reduce((s, v) => s + v * v, 0);
  const variance = values.reduce((s, v) => s + (v - mean) * (v - mean), 0) / nodes;
  return {
    state: 'measured',
    nodes,
    total,
    min,
    max,
    mean,
    minMaxRatio: min / max,
    coefficientOfVariation: Math.sqrt(variance) / mean,
    // Clamped: float rounding can step a hair outside the mathematical range [1/n, 1].
    jainIndex: min === max ? 1 : Math.min(1, Math.max(1 / nodes, (total * total) / (nodes * sumSquares))),
    allEqual: min === max,
  };
}

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { balance, type BalanceStats } from '../../src/measure/balance.ts';

function measured(stats: BalanceStats): Extract<BalanceStats, { state: 'measured' }> {
  if (stats.state !== 'measured') throw new Error(`expected measured, got ${stats.state}`);
  return stats;
}

describe('balance on known inputs', () => {
  it('perfectly even', () => {
    expect(balance({ a: 100, b: 100, c: 100 })).toEqual({
      state: 'measured', nodes: 3, total: 300, min: 100, max: 100, mean: 100,
      minMaxRatio: 1, coefficientOfVariation: 0, jainIndex: 1, allEqual: true,
    });
  });

  it('1, 2, 3, 4', () => {
    const s = measured(balance([1, 2, 3, 4]));
    expect(s.minMaxRatio).toBe(0.25);
    expect(s.jainIndex).toBeCloseTo(100 / 120, 12); // (Σx)² / (n·Σx²) = 100 / (4 · 30)
    expect(s.coefficientOfVariation).toBeCloseTo(Math.sqrt(1.25) / 2.5, 12);
  });

  it('all traffic on one of two nodes: Jain 1/n, ratio 0, CV 1', () => {
    expect(balance([100, 0])).toMatchObject({ jainIndex: 0.5, minMaxRatio: 0, coefficientOfVariation: 1 });
  });

  it('one node is trivially balanced', () => {
    expect(balance([42])).toMatchObject({ state: 'measured', jainIndex: 1, minMaxRatio: 1, coefficientOfVariation: 0 });
  });

  it('empty and all-zero inputs are states, not numbers', () => {
    expect(balance([])).toEqual({ state: 'empty', nodes: 0 });
    expect(balance({ a: 0, b: 0 })).toEqual({ state: 'no-traffic', nodes: 2 });
  });

  it('rejects negative or non-finite counts', () => {
    expect(() => balance([1, -1])).toThrow(/>= 0/);
    expect(() => balance([1, Number.NaN])).toThrow(/finite/);
  });
});

describe('balance properties', () => {
  const counts = fc.array(fc.integer({ min: 0, max: 1_000_000 }), { minLength: 1, maxLength: 50 }).filter((c) => c.some((v) => v > 0));

  it('Jain index lies in [1/n, 1] and equals 1 exactly when all counts are equal', () => {
    fc.assert(
      fc.property(counts, (c) => {
        const s = measured(balance(c));
        expect(s.jainIndex).toBeGreaterThanOrEqual(1 / c.length);
        expect(s.jainIndex).toBeLessThanOrEqual(1);
        expect(s.jainIndex === 1).toBe(c.every((v) => v === c[0]));
      }),
      { numRuns: 300 },
    );
  });

  it('equal counts give Jain 1 for any n', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1_000_000 }), fc.integer({ min: 1, max: 50 }), (v, n) => {
        expect(measured(balance(Array.from({ length: n }, () => v))).jainIndex).toBe(1);
      }),
    );
  });

  it('is scale-invariant: k times every count gives the same ratios', () => {
    fc.assert(
      fc.property(counts, fc.integer({ min: 2, max: 100 }), (c, k) => {
        const a = measured(balance(c));
        const b = measured(balance(c.map((v) => v * k)));
        expect(b.jainIndex).toBeCloseTo(a.jainIndex, 10);
        expect(b.coefficientOfVariation).toBeCloseTo(a.coefficientOfVariation, 10);
        expect(b.minMaxRatio).toBeCloseTo(a.minMaxRatio, 10);
      }),
    );
  });
});

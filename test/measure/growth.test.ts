import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_GROWTH_THRESHOLD_BYTES_PER_OP, estimateGrowth, type GrowthEstimate, type GrowthPoint } from '../../src/measure/growth.ts';
import { studentTQuantile } from '../../src/measure/student-t.ts';

function estimated(estimate: GrowthEstimate): Extract<GrowthEstimate, { state: 'estimated' }> {
  if (estimate.state !== 'estimated') throw new Error(estimate.reason);
  return estimate;
}

/** Batches of `opsPerBatch` operations with a deterministic, zero-mean-ish wobble of ±`noise` bytes. */
function batches(n: number, slope: number, noise: number, opsPerBatch = 1000): GrowthPoint[] {
  return Array.from({ length: n }, (_, i) => {
    const ops = (i + 1) * opsPerBatch;
    const wobble = Math.sin((i + 1) * 2.4); // in [-1, 1], no trend, not linear in i
    return { cumulativeOperations: ops, memoryBytes: 50e6 + slope * ops + noise * wobble };
  });
}

describe('studentTQuantile', () => {
  it.each([
    [1, 12.7062],
    [2, 4.3027],
    [5, 2.5706],
    [10, 2.2281],
    [30, 2.0423],
    [1000, 1.9623],
  ])('t(0.975, %i) = %f', (df, expected) => {
    expect(studentTQuantile(0.975, df)).toBeCloseTo(expected, 4);
  });

  it('is symmetric', () => {
    expect(studentTQuantile(0.025, 7)).toBeCloseTo(-studentTQuantile(0.975, 7), 10);
  });
});

describe('estimateGrowth', () => {
  it('matches a worked example (slope 0.6, SE 0.2828, t(3) = 3.1824)', () => {
    const points = [2, 4, 5, 4, 5].map((memoryBytes, i) => ({ cumulativeOperations: i + 1, memoryBytes }));
    const e = estimated(estimateGrowth(points, { thresholdBytesPerOp: 0.1 }));
    expect(e.slopeBytesPerOp).toBeCloseTo(0.6, 12);
    expect(e.interceptBytes).toBeCloseTo(2.2, 12);
    expect(e.standardError).toBeCloseTo(Math.sqrt(0.08), 12);
    expect(e.ci.low).toBeCloseTo(0.6 - 3.182446 * Math.sqrt(0.08), 5);
    expect(e.ci.high).toBeCloseTo(0.6 + 3.182446 * Math.sqrt(0.08), 5);
    expect(e.verdict).toBe('no-sustained-growth'); // the interval includes 0
  });

  it('recovers a known slope exactly from noiseless data', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -5000, max: 5000 }),
        fc.integer({ min: 3, max: 40 }),
        fc.integer({ min: 1, max: 10_000 }),
        (slope, n, opsPerBatch) => {
          const e = estimated(estimateGrowth(batches(n, slope, 0, opsPerBatch)));
          expect(e.slopeBytesPerOp).toBeCloseTo(slope, 6);
          expect(e.ci.high - e.ci.low).toBeLessThan(1e-3);
          expect(e.verdict).toBe(slope >= DEFAULT_GROWTH_THRESHOLD_BYTES_PER_OP ? 'sustained-growth' : 'no-sustained-growth');
        },
      ),
      { numRuns: 100 },
    );
  });

  it('narrows its confidence interval as batches are added', () => {
    fc.assert(
      fc.property(fc.integer({ min: 4, max: 40 }), fc.integer({ min: 0, max: 500 }), (n, slope) => {
        const width = (points: GrowthPoint[]) => {
          const e = estimated(estimateGrowth(points));
          return e.ci.high - e.ci.low;
        };
        expect(width(batches(2 * n, slope, 1e6))).toBeLessThan(width(batches(n, slope, 1e6)));
      }),
      { numRuns: 100 },
    );
  });

  it('calls a real leak sustained growth despite noise, and flat noisy memory not', () => {
    const leak = estimated(estimateGrowth(batches(20, 500, 2e6)));
    expect(leak.verdict).toBe('sustained-growth');
    expect(leak.ci.low).toBeGreaterThan(DEFAULT_GROWTH_THRESHOLD_BYTES_PER_OP);
    const flat = estimated(estimateGrowth(batches(20, 0, 2e6)));
    expect(flat.verdict).toBe('no-sustained-growth');
    expect(flat.ci.low).toBeLessThanOrEqual(0);
    expect(flat.ci.high).toBeGreaterThanOrEqual(0);
  });

  it('does not call growth below the threshold sustained, even when certain', () => {
    const e = estimated(estimateGrowth(batches(30, 5, 0)));
    expect(e.ci.low).toBeGreaterThan(0);
    expect(e.verdict).toBe('no-sustained-growth');
  });

  it('needs three batches at different operation counts', () => {
    expect(estimateGrowth(batches(2, 100, 0))).toMatchObject({ state: 'insufficient-data', points: 2 });
    const same = [1, 2, 3].map((memoryBytes) => ({ cumulativeOperations: 10, memoryBytes }));
    expect(estimateGrowth(same)).toMatchObject({ state: 'insufficient-data', reason: expect.stringMatching(/same operation count/) as unknown });
  });
});
